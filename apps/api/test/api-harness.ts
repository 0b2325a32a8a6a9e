import { type Env, loadConfig } from "@sparks/config";
import { createRedisConnection, QueueService } from "@sparks/queues";
import {
  createTestAuth0,
  createTestDatabase,
  createTestRedis,
  type TestAuth0,
  type TestDatabase,
} from "@sparks/testing";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { type ApiDeps, buildApp } from "../src";
import { TEST_LIMITS_ENV } from "./test-limits.env";

export interface ApiHarness {
  app: FastifyInstance;
  auth0: TestAuth0;
  db: TestDatabase;
  redis: Redis;
  /** The Redis key prefix of this harness (BullMQ and the quota keys). */
  prefix: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Extra env on top of the fake Auth0 and the test database. */
  env?: Env;
  /** Leave Auth0 unconfigured. */
  withoutAuth0?: boolean;
  /** Point the producer connection somewhere else (e.g. a dead port). */
  redisUrl?: string;
  logger?: ApiDeps["logger"];
  /** The home page's extras (parts, demo access). */
  home?: ApiDeps["home"];
  /** How long routes that ask the worker wait for its answer (no worker runs in this harness). */
  workerWaitMs?: number;
  /** Runs before `ready()`, to add test-only routes. */
  extend?: (app: FastifyInstance) => void | Promise<void>;
}

/** The API wired to real Redis, a fresh Postgres database and a JWKS served on localhost. */
export async function createApiHarness(options: HarnessOptions = {}): Promise<ApiHarness> {
  const auth0 = await createTestAuth0();
  const db = await createTestDatabase();
  const testRedis = await createTestRedis();
  const redis = createRedisConnection(options.redisUrl ?? testRedis.url, "producer");
  const queues = new QueueService({ connection: redis, prefix: testRedis.prefix });
  const config = loadConfig({
    ...(options.withoutAuth0 ? {} : auth0.env),
    DATABASE_URL: db.url,
    REDIS_URL: testRedis.url,
    ...TEST_LIMITS_ENV,
    ...options.env,
  });
  const app = await buildApp({
    config,
    database: db.database,
    redis,
    queues,
    logger: options.logger ?? false,
    ...(options.home ? { home: options.home } : {}),
    ...(options.workerWaitMs === undefined ? {} : { workerWaitMs: options.workerWaitMs }),
  });
  await options.extend?.(app);
  await app.ready();
  return {
    app,
    auth0,
    db,
    redis,
    prefix: testRedis.prefix,
    async close() {
      await app.close();
      await queues.close();
      redis.disconnect();
      await testRedis.cleanup();
      await db.drop();
      await auth0.close();
    },
  };
}
