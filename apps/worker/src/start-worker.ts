import { hostname } from "node:os";
import type { AppConfig } from "@sparks/config";
import { closeAdvisoryLocks, type Database } from "@sparks/db";
import { startMetricsPublisher } from "@sparks/observability";
import { createRedisConnection } from "@sparks/queues";
import type { Logger } from "pino";
import { createWorkers, type WorkerRuntime } from "./create-workers";
import { type SchedulerKeeper, startSchedulerKeeper } from "./scheduler-keeper";
import { upsertSchedulers } from "./schedulers";
import type { WorkerDeps } from "./worker-deps";
import { createWorkerDeps } from "./worker-deps.factory";

export interface StartWorkerOptions {
  config: AppConfig;
  database: Database;
  redisUrl: string;
  logger: Logger;
  /** Extra deps (adapters) the composition root built; merged over the defaults. */
  extend?: (deps: WorkerDeps) => WorkerDeps | Promise<WorkerDeps>;
  schedulers?: boolean;
  /** How often the scheduler keeper re-checks (default 30 s); tests shorten it. */
  schedulerCheckIntervalMs?: number;
  /**
   * Publish this process's pipeline counters to Redis for the API's `/metrics` (set when the
   * worker runs apart from the API; in one process they already share a registry).
   */
  publishMetrics?: boolean;
}

export interface RunningWorker {
  deps: WorkerDeps;
  runtime: WorkerRuntime;
  close(): Promise<void>;
}

/** Builds the worker side: connections, queues, processors and job schedulers. */
export async function startWorker(opts: StartWorkerOptions): Promise<RunningWorker> {
  const connection = createRedisConnection(opts.redisUrl, "worker");
  const logger = opts.logger.child({ component: "worker" });
  let deps = createWorkerDeps({ config: opts.config, database: opts.database, connection, logger });
  const queues = deps.queues;
  if (opts.extend) deps = await opts.extend(deps);
  const runtime = createWorkers(deps);
  let keeper: SchedulerKeeper | undefined;
  if (opts.schedulers !== false) {
    await upsertSchedulers(deps);
    // Re-asserts them on every reconnect and periodically: Redis may come back empty.
    keeper = startSchedulerKeeper(deps, { intervalMs: opts.schedulerCheckIntervalMs });
  }
  const stopPublishing = opts.publishMetrics
    ? startMetricsPublisher(connection, { prefix: queues.prefix, id: `worker-${hostname()}-${process.pid}` })
    : async () => undefined;
  deps.logger.info({ queues: [...runtime.workers.keys()] }, "workers started");
  return {
    deps,
    runtime,
    async close() {
      keeper?.stop();
      await runtime.close();
      await stopPublishing();
      await closeAdvisoryLocks(opts.database);
      await queues.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
