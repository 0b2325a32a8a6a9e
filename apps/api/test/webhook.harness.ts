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
import { buildApp } from "../src";
import { TEST_LIMITS_ENV } from "./test-limits.env";

export interface WebhookHarness {
  app: FastifyInstance;
  auth0: TestAuth0;
  db: TestDatabase;
  queues: QueueService;
  redis: Redis;
  close(): Promise<void>;
}

/**
 * Like `api-harness`, but keeps the QueueService so tests can look at the jobs the API
 * enqueued, and lets a test pin the API clock.
 */
export async function createWebhookHarness(
  options: { env?: Env; now?: () => Date; extend?: (app: FastifyInstance) => void } = {},
): Promise<WebhookHarness> {
  const auth0 = await createTestAuth0();
  const db = await createTestDatabase();
  const testRedis = await createTestRedis();
  const redis = createRedisConnection(testRedis.url, "producer");
  const queues = new QueueService({ connection: redis, prefix: testRedis.prefix });
  const config = loadConfig({
    ...auth0.env,
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
    logger: false,
    ...(options.now ? { now: options.now } : {}),
  });
  options.extend?.(app);
  await app.ready();
  return {
    app,
    auth0,
    db,
    queues,
    redis,
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
