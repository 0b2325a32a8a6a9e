import { rm } from "node:fs/promises";
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
import type { DemoMode } from "./demo-mode";

type Part = "api" | "worker";

interface Stoppable {
  name: string;
  close(): Promise<void>;
}

async function openDatabase(config: AppConfig, parts: Part[], demo: boolean): Promise<Database> {
  if (config.databaseUrl) return createDatabase({ url: config.databaseUrl });
  if (demo) {
    // The emulators live in memory, so demo data must not outlive them (stale Stripe ids).
    const dir = join(config.dataDir, "pglite-demo");
    await rm(dir, { recursive: true, force: true });
    return createDatabase({ dataDir: dir });
  }
  // PGlite is one connection in one process: API and workers apart would each open their own.
  if (parts.length === 1) {
    throw new CliError(
      `DATABASE_URL is required for \`sparks ${parts[0]}\` (the embedded PGlite serves one process only: use \`sparks start\`, or set DATABASE_URL)`,
    );
  }
  return createDatabase({ dataDir: join(config.dataDir, "pglite") });
}

export interface RunOptions {
  /** `sparks start` without keys runs the demo emulators (default true; `--no-demo` turns it off). */
  demo?: boolean;
}

/** Runs the given parts in this process until SIGTERM/SIGINT, then shuts down gracefully. */
export async function runSparks(
  env: NodeJS.ProcessEnv,
  parts: Part[],
  repoRoot: string,
  options: RunOptions = {},
): Promise<number> {
  let config = loadConfig(env);
  const logger: Logger = createLogger(
    { level: config.logLevel, format: config.logFormat, production: config.production },
    secretsFromConfig(config),
  );
  const stack: Stoppable[] = [];
  const stopAll = async () => {
    for (const s of stack.reverse()) {
      await s.close().catch((e: Error) => logger.error({ err: e.message, part: s.name }, "shutdown error"));
    }
  };
  try {
    let demo: DemoMode | null = null;
    const demoMode = await import("./demo-mode");
    if (options.demo !== false && parts.length === 2 && demoMode.wantsDemo(config)) {
      const started = await demoMode.startDemo(env, config, logger);
      demo = started;
      stack.push({ name: "demo emulators", close: () => started.close() });
      config = started.config;
    }
    const redis = await ensureRedis({
      redisUrl: config.redisUrl,
      dataDir: resolve(config.dataDir),
      repoRoot,
    });
    stack.push({ name: "redis", close: redis.stop });
    logger.info({ source: redis.source }, "redis ready");

    const database = await openDatabase(config, parts, demo !== null);
    stack.push({ name: "database", close: () => database.close() });
    await migrateDatabase(database);
    logger.info({ kind: database.kind }, "database ready");
    if (demo) await demoMode.seedDemo(demo, database, logger);

    if (parts.includes("worker")) {
      const worker = await startWorker({
        config,
        database,
        redisUrl: redis.url,
        logger,
        publishMetrics: !parts.includes("api"),
      });
      stack.push({ name: "worker", close: () => worker.close() });
    }
    // Before the API listens: once /readyz answers, start-up (demo included) is complete.
    if (demo) await demoMode.firstDemoSync(demo, database, redis.url, logger);
    let apiUrl: string | null = null;
    if (parts.includes("api")) {
      const home = {
        parts: parts.includes("worker") ? ["API", "workers", "schedulers"] : ["API"],
        ...(demo?.access ? { demo: demo.access } : {}),
      };
      const api = await startApi(config, { database, redisUrl: redis.url, logger, home });
      stack.push({ name: "api", close: () => api.close() });
      logger.info({ url: api.url }, "Sparks API listening");
      apiUrl = api.url.replace("0.0.0.0", "127.0.0.1");
    }
    if (demo) demoMode.logDemoAccess(demo, apiUrl, logger);
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
