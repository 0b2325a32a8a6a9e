import { Writable } from "node:stream";
import { createNotifier } from "@sparks/alerts";
import { type Env, loadConfig } from "@sparks/config";
import { createLogger } from "@sparks/observability";
import { createRedisConnection, QueueService } from "@sparks/queues";
import { createTestDatabase, createTestRedis, type TestDatabase } from "@sparks/testing";
import type { Redis } from "ioredis";
import { createWorkerDeps, createWorkers, type WorkerDeps, type WorkerRuntime } from "../src";
import type { AlertDeliveryOptions } from "../src/use-cases/deliver-alert.use-case";

export interface AlertsHarness {
  db: TestDatabase;
  queues: QueueService;
  runtime: WorkerRuntime;
  /** Every JSON log line the worker wrote. */
  logs(): Record<string, unknown>[];
  /** Waits until the alerts queue has `count` completed jobs (and nothing waiting/active/delayed). */
  settled(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface AlertsHarnessOptions {
  env?: Env;
  options?: AlertDeliveryOptions;
  now?: () => Date;
}

/** The alerts worker alone, on real Redis and a fresh Postgres database. */
export async function createAlertsHarness(opts: AlertsHarnessOptions = {}): Promise<AlertsHarness> {
  const db = await createTestDatabase();
  const testRedis = await createTestRedis();
  const connection: Redis = createRedisConnection(testRedis.url, "worker");
  const queues = new QueueService({ connection, prefix: testRedis.prefix });
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const config = loadConfig({ DATABASE_URL: db.url, REDIS_URL: testRedis.url, ...opts.env });
  const logger = createLogger({ level: "info", destination }, []);
  const deps: WorkerDeps = createWorkerDeps({
    config,
    database: db.database,
    connection,
    queues,
    logger,
    adapters: false,
    ...(opts.now ? { now: opts.now } : {}),
    alerts: { notifier: createNotifier(config.alerts, logger), options: opts.options },
  });
  const runtime = createWorkers(deps, { only: ["alerts"] });
  return {
    db,
    queues,
    runtime,
    logs: () => [...lines],
    async settled(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const c = await queues
          .queue("alerts")
          .getJobCounts("completed", "waiting", "active", "delayed", "failed");
        if ((c.completed ?? 0) + (c.failed ?? 0) >= count && !c.waiting && !c.active && !c.delayed) return;
        if (Date.now() > deadline) throw new Error(`alerts queue not settled: ${JSON.stringify(c)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      await runtime.close();
      await deps.alerts?.notifier?.close();
      await queues.close();
      connection.disconnect();
      await testRedis.cleanup();
      await db.drop();
    },
  };
}
