import type { AppConfig } from "@sparks/config";
import { ConfigError } from "@sparks/config";
import { createDatabase, type Database, migrateDatabase } from "@sparks/db";
import { createLogger, secretsFromConfig } from "@sparks/observability";
import { createRedisConnection, QueueService } from "@sparks/queues";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { HomePageDeps } from "./api-deps";
import { buildApp } from "./build-app";

export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

export interface StartApiOptions {
  /**
   * A database opened by the caller (`sparks start` shares its embedded PGlite with the
   * workers). Absent: the API opens `DATABASE_URL`, which is then required.
   */
  database?: Database;
  /** Redis URL found by the launcher; else `REDIS_URL`, else 127.0.0.1:6379. */
  redisUrl?: string;
  /** Apply pending migrations before listening (default false: `sparks migrate` does it). */
  migrate?: boolean;
  host?: string;
  /** Default `config.port`; 0 picks a free port. */
  port?: number;
  logger?: Logger;
  /** The home page's extras: what runs in this process, and demo access in demo mode. */
  home?: HomePageDeps;
}

export interface ApiHandle {
  app: FastifyInstance;
  /** e.g. `http://0.0.0.0:3000`. */
  url: string;
  port: number;
  /** Stops accepting, finishes in-flight requests, then closes what startApi opened. Idempotent. */
  close(): Promise<void>;
}

async function quitRedis(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    // Already disconnected (e.g. Redis went away): nothing left to flush.
    redis.disconnect();
  }
}

/** Composition root of `sparks api` (and of the API half of `sparks start`). */
export async function startApi(config: AppConfig, options: StartApiOptions = {}): Promise<ApiHandle> {
  if (!options.database && !config.databaseUrl) {
    throw new ConfigError(
      "DATABASE_URL",
      "is required to run the API apart (`sparks api`); set a Postgres URL, or use `sparks start` for the embedded database",
    );
  }
  const logger =
    options.logger ??
    createLogger(
      { level: config.logLevel, format: config.logFormat, production: config.production },
      secretsFromConfig(config),
    );
  const ownsDatabase = !options.database;
  const database = options.database ?? (await createDatabase({ url: config.databaseUrl ?? undefined }));
  const redis = createRedisConnection(options.redisUrl ?? config.redisUrl ?? DEFAULT_REDIS_URL, "producer");
  const queues = new QueueService({ connection: redis, logger });

  let app: FastifyInstance | undefined;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      if (app) await app.close();
      await queues.close();
      await quitRedis(redis);
      if (ownsDatabase) await database.close();
    })();
    return closing;
  };

  try {
    if (options.migrate) await migrateDatabase(database);
    app = await buildApp({ config, database, redis, queues, logger, home: options.home });
    const url = await app.listen({ host: options.host ?? config.host, port: options.port ?? config.port });
    const address = app.server.address();
    const port = typeof address === "object" && address ? address.port : (options.port ?? config.port);
    return { app, url, port, close };
  } catch (e) {
    await close().catch(() => undefined);
    throw e;
  }
}
