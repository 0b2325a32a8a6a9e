import { loadConfig } from "@sparks/config";
import { closeAdvisoryLocks, createDatabase } from "@sparks/db";
import { createRedisConnection } from "@sparks/queues";
import { createWorkerDeps, createWorkers } from "@sparks/worker";
import pino from "pino";
import { childArgument, serveIpc } from "./ipc.channel";
import type { WorkerHostSpec } from "./worker-host.types";

/**
 * One Sparks worker process, composed as `startWorker` does (config from env, Postgres,
 * Redis, the Langfuse reader, the budgeted Stripe sender) but limited to the queues a figure
 * times, without schedulers, and with the bench's BullMQ prefix.
 */
const spec = childArgument() as WorkerHostSpec;
const logger = pino({ level: "warn" });
const config = loadConfig(spec.env);
const database = await createDatabase({ url: spec.databaseUrl, maxConnections: spec.maxConnections });
const connection = createRedisConnection(spec.redisUrl, "worker");
const deps = createWorkerDeps({
  config,
  database,
  connection,
  prefix: spec.prefix,
  logger,
  pipeline: spec.pipeline,
});
const runtime = createWorkers(deps, { only: spec.only });

serveIpc(
  {
    ping: () => process.memoryUsage().rss,
  },
  async () => {
    await runtime.close();
    await closeAdvisoryLocks(database);
    await deps.queues.close();
    await connection.quit().catch(() => connection.disconnect());
    await database.close();
  },
);
process.send?.({ ready: true });
