import { loadConfig } from "@sparks/config";
import { CustomerRepository } from "@sparks/db";
import { createLangfuseEmulator } from "@sparks/emulators";
import { createRedisConnection, QueueService, QuotaStore } from "@sparks/queues";
import { createTestDatabase, createTestRedis } from "@sparks/testing";
import { refreshProvisionalUsage, type WorkerDeps } from "@sparks/worker";
import pino from "pino";
import type { BenchSizes, FigureReport } from "../bench.types";
import { fmt } from "./scenario.util";

const V2 = "GET /api/public/v2/observations";
/** A realistic Langfuse ingestion delay: seconds, not the 15-minute worst case. */
const INGESTION_DELAY_MS = 2_000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/**
 * Provisional quota counters (issue 16): with N active customers sending Flowise-like runs,
 * the quota refresh (every QUOTA_REFRESH_SECONDS) reads Langfuse's open window. Measures the
 * Langfuse requests per minute it spends (target ≤ 6 at 10 s, whatever N) and the freshness:
 * seconds from a run being readable in Langfuse to the counters `/quota` reads counting it
 * (target ≤ 15 s). In process: the emulator, real Postgres and Redis, the worker's use case.
 */
export async function runQuotaFreshness(sizes: BenchSizes): Promise<FigureReport> {
  const { customers: n, refreshSeconds, seconds } = sizes.quotaFresh;
  const db = await createTestDatabase();
  const redis = await createTestRedis();
  const langfuse = await createLangfuseEmulator({ ingestionDelayMs: INGESTION_DELAY_MS });
  const connection = createRedisConnection(redis.url, "worker");
  const queues = new QueueService({ connection, prefix: redis.prefix });
  try {
    const config = loadConfig({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
      LANGFUSE_SECRET_KEY: langfuse.secretKey,
      LANGFUSE_BASEURL: langfuse.url,
      LANGFUSE_API: "v2",
      QUOTA_REFRESH_SECONDS: String(refreshSeconds),
    });
    const deps: WorkerDeps = {
      config,
      database: db.database,
      connection,
      queues,
      logger: pino({ level: "silent" }),
    };
    const repo = new CustomerRepository(db.database.db);
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      ids.push((await repo.insert({ id: `cus_qf_${String(i).padStart(5, "0")}`, tier: "free" })).id);
    }
    const probe = ids[0] ?? "";
    const store = new QuotaStore({ redis: connection, prefix: redis.prefix });
    let seq = 0;
    const addRun = (customerId: string, tokens: number) => {
      seq++;
      const at = new Date();
      const traceId = `qf-${seq}`;
      langfuse.store.addTrace({ id: traceId, timestamp: at, userId: customerId }, [
        {
          id: `${traceId}-gen`,
          type: "GENERATION",
          startTime: at,
          usageDetails: { total: tokens },
          metadata: { customer_id: customerId },
        },
      ]);
      return at.getTime() + INGESTION_DELAY_MS;
    };

    await refreshProvisionalUsage(deps); // builds the counters marker, first read
    const requestsBefore = langfuse.stats.count({ route: V2 });
    const started = Date.now();
    const deadline = started + seconds * 1000;
    let stop = false;
    const refresher = (async () => {
      while (!stop) {
        const t0 = Date.now();
        await refreshProvisionalUsage(deps);
        await new Promise((r) => setTimeout(r, Math.max(0, refreshSeconds * 1000 - (Date.now() - t0))));
      }
    })();
    // Background traffic: every active customer runs now and then (20 runs/s in all).
    const traffic = setInterval(() => {
      for (let i = 0; i < 4; i++) addRun(ids[1 + Math.floor(Math.random() * (n - 1))] ?? probe, 1_000);
    }, 200);
    // Probes: one run of the probe customer at a time; how long until /quota's counters see it.
    const freshness: number[] = [];
    let expected = 0;
    const month = new Date().toISOString().slice(0, 7);
    const lastProbe = deadline - (refreshSeconds * 1000 + INGESTION_DELAY_MS + 1_000);
    while (freshness.length === 0 || Date.now() < lastProbe) {
      const visibleAt = addRun(probe, 10_000); // 1,000 Sparks
      expected += 1_000;
      for (;;) {
        const snap = await store.snapshot(probe, month);
        if (snap.provisional + snap.billed >= expected) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      freshness.push(Math.max(0, Date.now() - visibleAt) / 1000);
      await new Promise((r) => setTimeout(r, Math.random() * 1_000));
    }
    if (Date.now() < deadline) await new Promise((r) => setTimeout(r, deadline - Date.now()));
    const elapsedMin = (Date.now() - started) / 60_000;
    stop = true;
    clearInterval(traffic);
    await refresher;
    const perMinute = (langfuse.stats.count({ route: V2 }) - requestsBefore) / elapsedMin;
    freshness.sort((a, b) => a - b);
    const worst = freshness[freshness.length - 1] ?? Number.POSITIVE_INFINITY;
    return {
      rows: [
        {
          figure: "quota-fresh",
          label: `Langfuse requests/min on provisional reads, ${n} active customers, QUOTA_REFRESH_SECONDS=${refreshSeconds}`,
          value: fmt(perMinute, 1),
          target: `≤ ${fmt(60 / refreshSeconds, 0)}`,
          met: perMinute <= 60 / refreshSeconds + 0.5,
        },
        {
          figure: "quota-fresh",
          label: `freshness: readable in Langfuse → counted by /quota, p50 / max of ${freshness.length} probes`,
          value: `${fmt(percentile(freshness, 50), 1)} / ${fmt(worst, 1)} s`,
          target: `≤ ${refreshSeconds + 5} s`,
          met: worst <= refreshSeconds + 5,
        },
      ],
      details: { customers: n, refreshSeconds, perMinute, freshness },
    };
  } finally {
    await queues.close();
    connection.disconnect();
    await redis.cleanup();
    await db.drop();
    await langfuse.close();
  }
}
