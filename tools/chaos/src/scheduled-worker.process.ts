/**
 * The worker as production starts it (`startWorker`: processors, job schedulers and the
 * scheduler keeper), for the `--redis-wipe` phase. The backfill's worker-process.ts runs the
 * processors only; the wipe phase is about what the schedulers and the keeper do when Redis
 * comes back empty, so it needs the whole composition. Prints `ready` once started.
 */
import { loadConfig } from "@sparks/config";
import { createDatabase } from "@sparks/db";
import { startWorker } from "@sparks/worker";
import pino from "pino";
import { z } from "zod";

const spec = z
  .object({
    databaseUrl: z.string(),
    redisUrl: z.string(),
    env: z.record(z.string(), z.string()),
    schedulerCheckIntervalMs: z.number().int().positive(),
  })
  .parse(JSON.parse(process.argv[2] ?? "{}"));
const config = loadConfig(spec.env);
const logger = pino({ level: "info" });
const database = await createDatabase({ url: spec.databaseUrl, maxConnections: 4 });
await startWorker({
  config,
  database,
  redisUrl: spec.redisUrl,
  logger,
  schedulerCheckIntervalMs: spec.schedulerCheckIntervalMs,
});
process.on("unhandledRejection", (reason) => logger.error({ err: String(reason) }, "unhandled rejection"));
process.stdout.write("ready\n");
