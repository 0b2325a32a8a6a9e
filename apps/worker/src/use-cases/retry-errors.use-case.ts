import { MeterEventRepository, type UsageGroup, UsageItemRepository } from "@sparks/db";
import { type LedgerDeps, parseErrorId, type RetryOutcome } from "@sparks/ledger";
import pino from "pino";
import type { WorkerDeps } from "../worker-deps";
import { createWorkerDeps } from "../worker-deps.factory";
import { ingestTraces, ResolutionCache } from "./ingest-traces.use-case";
import { enqueuePush } from "./pipeline-context";
import { refreshUsageCounters } from "./refresh-usage-counters.use-case";

/**
 * Operator retry. A quarantined item is re-evaluated: its trace is re-derived from staging and
 * its customer resolved again (after the mapping was fixed it becomes pending). A failed item
 * goes back to `sending` with its persisted meter event (same identifier and value) and its
 * group is re-queued. Returns each item's status as the retry left it (before any push ran).
 */
export async function retryErrors(deps: WorkerDeps, errorIds: readonly string[]): Promise<RetryOutcome[]> {
  const db = deps.database.db;
  const repo = new UsageItemRepository(db);
  const parsed = errorIds.map((errorId) => ({ errorId, id: parseErrorId(errorId) }));
  const ids = parsed.flatMap((p) => (p.id === null ? [] : [p.id]));
  const items = await db.transaction((tx) => new UsageItemRepository(tx).findByIds(ids));
  const failed = items.filter((i) => i.status === "failed" && i.meterEventId !== null).map((i) => i.id);
  const quarantinedTraces = [
    ...new Set(items.filter((i) => i.status === "quarantined").map((i) => i.traceId)),
  ];
  const groups: UsageGroup[] = [];
  if (failed.length > 0) {
    await db.transaction(async (tx) => {
      groups.push(...(await new MeterEventRepository(tx).resendForItems(failed)));
      await new UsageItemRepository(tx).resendFailed(failed);
    });
  }
  if (quarantinedTraces.length > 0) {
    await ingestTraces(deps, { traceIds: quarantinedTraces, syncRunId: null }, new ResolutionCache());
    const after = await db.transaction((tx) => new UsageItemRepository(tx).lockByTraceIds(quarantinedTraces));
    for (const item of after) {
      if (item.status === "pending" && item.customerId !== null) {
        groups.push({ customerId: item.customerId, category: item.usageCategory, month: item.month });
      }
    }
  }
  // Read before the push is queued: the answer is what the retry decided (pending, sending), not
  // however far a push worker has got by the time this reads.
  const statuses = await repo.statusesOf(ids);
  const reasons = new Map(
    (await db.transaction((tx) => new UsageItemRepository(tx).findByIds(ids))).map((i) => [i.id, i.reason]),
  );
  await enqueuePush(deps, groups);
  // Newly billable usage counts toward /quota now, not after the next sync (issue 19).
  for (const customerId of new Set(groups.map((g) => g.customerId))) {
    const months = [...new Set(groups.filter((g) => g.customerId === customerId).map((g) => g.month))];
    await refreshUsageCounters(deps, { customerId, months }).catch((e: Error) =>
      deps.logger.warn({ customerId, err: e.message }, "usage counters not refreshed after a retry"),
    );
  }
  return parsed.map(({ errorId, id }) => ({
    errorId,
    status: id === null ? null : (statuses.get(id) ?? null),
    reason: id === null ? "not an error id" : (reasons.get(id) ?? (statuses.has(id) ? null : "no such item")),
  }));
}

/**
 * A push job that runs again after it failed (BullMQ's retry, or an operator's in Bull Board)
 * resends its group's failed meter events: same identifiers and values, so a delivery that did
 * happen is answered as a duplicate, never billed twice. Returns how many items went back.
 */
export async function resendFailedGroup(deps: WorkerDeps, group: UsageGroup): Promise<number> {
  const db = deps.database.db;
  const ids = await new UsageItemRepository(db).failedIdsOfGroup(group);
  if (ids.length === 0) return 0;
  await db.transaction(async (tx) => {
    await new MeterEventRepository(tx).resendForItems(ids);
    await new UsageItemRepository(tx).resendFailed(ids);
  });
  return ids.length;
}

const silent = pino({ level: "silent" });

/**
 * `sparks errors retry` (and the `retryErrors` job): the retry needs no adapter (a quarantined
 * item is re-derived from staging), so the ledger's deps are enough to run it.
 */
export function retryLedgerErrors(deps: LedgerDeps, errorIds: readonly string[]): Promise<RetryOutcome[]> {
  return retryErrors(
    createWorkerDeps({
      config: deps.config,
      database: deps.database,
      connection: deps.redis,
      queues: deps.queues,
      logger: deps.logger ?? silent,
      adapters: false,
      ...(deps.now ? { now: deps.now } : {}),
    }),
    errorIds,
  );
}
