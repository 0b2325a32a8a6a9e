import { loadConfig } from "@sparks/config";
import { syncRuns } from "@sparks/db";
import { createRedisConnection, QueueService } from "@sparks/queues";
import {
  createTestAuth0,
  createTestDatabase,
  type PrivateRedis,
  startPrivateRedis,
  type TestAuth0,
  type TestDatabase,
} from "@sparks/testing";
import { eq, sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildApp } from "../src";
import { TEST_LIMITS_ENV } from "./test-limits.env";

/**
 * Issue 19 item 2: a sync requested while Redis is down answers 503 queue_unavailable and
 * leaves no queued row; a dead queued row (its job gone) never absorbs later default syncs.
 * A Redis of the test's own, stopped and started.
 */

let redis: PrivateRedis;
let db: TestDatabase;
let auth0: TestAuth0;
let producer: Redis;
let queues: QueueService;
let app: FastifyInstance;
let admin: string;

beforeAll(async () => {
  redis = await startPrivateRedis();
  db = await createTestDatabase();
  auth0 = await createTestAuth0();
  producer = createRedisConnection(redis.url, "producer");
  queues = new QueueService({ connection: producer, prefix: "sync-down" });
  const config = loadConfig({ ...auth0.env, DATABASE_URL: db.url, REDIS_URL: redis.url, ...TEST_LIMITS_ENV });
  app = await buildApp({ config, database: db.database, redis: producer, queues, logger: false });
  await app.ready();
  admin = `Bearer ${await auth0.mintToken({ sub: "auth0|ops", permissions: ["billing:admin"] })}`;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await queues?.close();
  producer?.disconnect();
  await redis?.close();
  await db?.drop();
  await auth0?.close();
});

const sync = () =>
  app.inject({ method: "POST", url: "/usage/sync", headers: { authorization: admin }, payload: {} });

async function activeRows(): Promise<number> {
  const rows = await db.database.db
    .select()
    .from(syncRuns)
    .where(sql`${syncRuns.status} in ('queued', 'running')`);
  return rows.length;
}

it("Redis down: 503 queue_unavailable, no queued row; Redis back: a later sync is queued with its job", async () => {
  await redis.stop();
  const down = await sync();
  expect(down.statusCode).toBe(503);
  expect(down.json()).toMatchObject({ error: "queue_unavailable" });
  expect(await activeRows()).toBe(0);

  await redis.start();
  await expect.poll(() => producer.status, { timeout: 10_000 }).toBe("ready");
  const up = await sync();
  expect(up.statusCode).toBe(202);
  const body = up.json() as { sync_id: string; deduplicated: boolean };
  expect(body.deduplicated).toBe(false);
  expect(await queues.queue("syncUsage").getJob(body.sync_id)).toBeDefined();
}, 40_000);

it("a queued row whose job is gone (Redis wiped) is failed, and the default sync queues a new run", async () => {
  const first = (await sync()).json() as { sync_id: string };
  // Redis loses its data after the request; the row is a minute old.
  await redis.wipe();
  await db.database.db
    .update(syncRuns)
    .set({ createdAt: new Date(Date.now() - 60_000) })
    .where(eq(syncRuns.id, first.sync_id));
  const next = await sync();
  expect(next.statusCode).toBe(202);
  const body = next.json() as { sync_id: string; deduplicated: boolean };
  expect(body.deduplicated).toBe(false);
  expect(body.sync_id).not.toBe(first.sync_id);
  const [dead] = await db.database.db.select().from(syncRuns).where(eq(syncRuns.id, first.sync_id));
  expect(dead?.status).toBe("failed");
  expect(dead?.error).toMatch(/job is gone/);
  // A fresh run whose job exists is still joined (deduplicated) as before.
  const again = (await sync()).json() as { sync_id: string; deduplicated: boolean };
  expect(again).toMatchObject({ sync_id: body.sync_id, deduplicated: true });
});
