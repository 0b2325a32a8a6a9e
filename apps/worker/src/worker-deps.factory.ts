import type { AppConfig } from "@sparks/config";
import type { Database } from "@sparks/db";
import { QueueService } from "@sparks/queues";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { createPipelineAdapters } from "./pipeline-adapters.factory";
import type { WorkerDeps } from "./worker-deps";

export interface CreateWorkerDepsOptions {
  config: AppConfig;
  database: Database;
  /** A worker-role connection (`createRedisConnection(url, "worker")`); the caller closes it. */
  connection: Redis;
  logger: Logger;
  /** BullMQ prefix (default `sparks`); tests pass their own. Ignored when `queues` is given. */
  prefix?: string;
  /** A queue service the caller already owns (the CLI's); default: a new one on `connection`. */
  queues?: QueueService;
  /** Build the Langfuse reader and Stripe ports from config (default true). */
  adapters?: boolean;
  /** Stripe per-call timeout (default: the client's 20 s). */
  stripeTimeoutMs?: number;
  pipeline?: WorkerDeps["pipeline"];
  alerts?: WorkerDeps["alerts"];
  now?: () => Date;
}

/**
 * The one place WorkerDeps are assembled: `startWorker`, the CLI, the tests and the bench and
 * chaos harnesses all call it, so a client added to the worker is built once, here.
 */
export function createWorkerDeps(opts: CreateWorkerDepsOptions): WorkerDeps {
  const queues =
    opts.queues ??
    new QueueService({ connection: opts.connection, prefix: opts.prefix, logger: opts.logger });
  return {
    config: opts.config,
    database: opts.database,
    connection: opts.connection,
    queues,
    logger: opts.logger,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.pipeline ? { pipeline: opts.pipeline } : {}),
    ...(opts.alerts ? { alerts: opts.alerts } : {}),
    ...(opts.adapters === false
      ? {}
      : createPipelineAdapters({
          config: opts.config,
          database: opts.database,
          connection: opts.connection,
          prefix: queues.prefix,
          logger: opts.logger,
          ...(opts.stripeTimeoutMs === undefined ? {} : { stripeTimeoutMs: opts.stripeTimeoutMs }),
        })),
  };
}
