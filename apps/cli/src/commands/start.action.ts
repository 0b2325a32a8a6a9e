import { join, resolve } from "node:path";
import { startApi } from "@sparks/api";
import type { AppConfig } from "@sparks/config";
import { loadConfig } from "@sparks/config";
import { createDatabase, type Database, migrateDatabase } from "@sparks/db";
import { createLogger, secretsFromConfig } from "@sparks/observability";
import { startWorker } from "@sparks/worker";
import type { Logger } from "pino";
import { CliError } from "../cli-error";
import { ensureRedis } from "../redis-launcher";

type Part = "api" | "worker";

interface Stoppable {
  name: string;
  close(): Promise<void>;
}

async function openDatabase(config: AppConfig, parts: Part[]): Promise<Database> {
  if (config.databaseUrl) return createDatabase({ url: config.databaseUrl });
  // PGlite is one connection in one process: API and workers apart would each open their own.
  if (parts.length === 1) {
    throw new CliError(
      `DATABASE_URL is required for \`sparks ${parts[0]}\` (the embedded PGlite serves one process only: use \`sparks start\`, or set DATABASE_URL)`,
    );
  }
  return createDatabase({ dataDir: join(config.dataDir, "pglite") });
}

/** Runs the given parts in this process until SIGTERM/SIGINT, then shuts down gracefully. */
export async function runSparks(env: NodeJS.ProcessEnv, parts: Part[], repoRoot: string): Promise<number> {
  const config = loadConfig(env);
  const logger: Logger = createLogger({ level: config.logLevel }, secretsFromConfig(config));
  const stack: Stoppable[] = [];
  const stopAll = async () => {
    for (const s of stack.reverse()) {
      await s.close().catch((e: Error) => logger.error({ err: e.message, part: s.name }, "shutdown error"));
    }
  };
  try {
    const redis = await ensureRedis({
      redisUrl: config.redisUrl,
      dataDir: resolve(config.dataDir),
      repoRoot,
    });
    stack.push({ name: "redis", close: redis.stop });
    logger.info({ source: redis.source }, "redis ready");

    const database = await openDatabase(config, parts);
    stack.push({ name: "database", close: () => database.close() });
    await migrateDatabase(database);
    logger.info({ kind: database.kind }, "database ready");

    if (parts.includes("worker")) {
      const worker = await startWorker({ config, database, redisUrl: redis.url, logger });
      stack.push({ name: "worker", close: () => worker.close() });
    }
    if (parts.includes("api")) {
      const api = await startApi(config, { database, redisUrl: redis.url, logger });
      stack.push({ name: "api", close: () => api.close() });
      logger.info({ url: api.url }, "Sparks API listening");
    }
  } catch (e) {
    await stopAll();
    throw e;
  }

  await new Promise<void>((done) => {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, "shutting down");
      done();
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
  // A second signal while draining forces the exit.
  const force = () => process.exit(130);
  process.once("SIGTERM", force);
  process.once("SIGINT", force);
  await stopAll();
  logger.info("stopped");
  logger.flush();
  return 0;
}
