import { CustomerRepository, QuotaRepository } from "@sparks/db";
import { QuotaCountersGuard } from "@sparks/ledger";
import { QuotaStore } from "@sparks/queues";
import type { RouteDeps } from "../api-deps";
import { BatchedQuotaReader } from "./batched-quota.reader";
import { QuotaUseCase } from "./quota.use-case";

export interface QuotaServices {
  store: QuotaStore;
  guard: QuotaCountersGuard;
  quota: QuotaUseCase;
}

const byApp = new WeakMap<RouteDeps, QuotaServices>();

/**
 * One set of quota services per app (the route deps object is built once by `buildApp`), so
 * `/quota`, `/readyz` and the usage report share the customer cache and the rebuild guard.
 */
export function quotaServices(deps: RouteDeps): QuotaServices {
  const found = byApp.get(deps);
  if (found) return found;
  const store = new QuotaStore({ redis: deps.redis, prefix: deps.queues.prefix });
  const guard = new QuotaCountersGuard({
    database: deps.database,
    redis: deps.redis,
    queues: deps.queues,
    now: deps.now,
  });
  const quota = new QuotaUseCase({
    customers: new CustomerRepository(deps.database.db),
    quotaRepository: new QuotaRepository(deps.database.db),
    store,
    reader: new BatchedQuotaReader(store),
    guard,
    billing: deps.config.billing,
    now: deps.now,
    // Two refreshes plus a minute of Langfuse ingestion: by then the refresh has read it.
    settleBridgeMs: (2 * deps.config.quota.refreshSeconds + 60) * 1000,
  });
  const services = { store, guard, quota };
  byApp.set(deps, services);
  return services;
}
