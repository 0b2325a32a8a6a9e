/**
 * One worker process of the chaos run: the production composition (createWorkers over the
 * adapters built from config), pointed at the run's database, Redis and emulators. Based on
 * the worker's SIGKILL-test child, plus a short Stripe timeout so a hung call is given up on
 * (and retried) instead of holding a push job for the SDK's default 20 s. Logs go to stdout as
 * JSON lines, so the run can check them for secrets.
 */
import { loadConfig } from "@sparks/config";
import { createDatabase } from "@sparks/db";
import { createWorkerDeps, createWorkers } from "@sparks/worker";
import { Redis } from "ioredis";
import pino from "pino";
import { parseWorkerSpec } from "./worker-spec";

const spec = parseWorkerSpec(process.argv[2] ?? "{}");
const config = loadConfig(spec.env);
const logger = pino({ level: "info" });
const database = await createDatabase({ url: spec.databaseUrl, maxConnections: 8 });
const connection = new Redis(spec.redisUrl, { maxRetriesPerRequest: null });
// A restarted Redis refuses commands for a moment; keep retrying instead of crashing.
connection.on("error", (err: Error) => logger.warn({ err: err.message }, "redis connection error"));
const deps = createWorkerDeps({
  config,
  database,
  connection,
  prefix: spec.prefix,
  logger,
  stripeTimeoutMs: spec.stripeTimeoutMs,
  pipeline: {
    chunkMs: 10 * 60_000,
    retryBaseMs: 50,
    pushLockDurationMs: 3_000,
    syncLockDurationMs: 3_000,
    pushConcurrency: 8,
  },
});
createWorkers(deps);
process.on("unhandledRejection", (reason) => logger.error({ err: String(reason) }, "unhandled rejection"));
process.stdout.write("ready\n");
