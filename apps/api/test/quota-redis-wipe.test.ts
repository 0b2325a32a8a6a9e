import { loadConfig } from "@sparks/config";
import { CustomerRepository } from "@sparks/db";
import { createRedisConnection, QueueService } from "@sparks/queues";
import { createTestDatabase, type PrivateRedis, startPrivateRedis, type TestDatabase } from "@sparks/testing";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src";

const SECRET = "wipe-test-service-secret-0123456";
const MONTH = new Date().toISOString().slice(0, 7);

let redis: PrivateRedis;
let db: TestDatabase;
let connection: Redis;
let queues: QueueService;
let app: FastifyInstance;
const ids: Record<string, string> = {};

/** Billed usage straight in the ledger, as a finished sync leaves it. */
async function ledgerUsage(customerId: string, sparks: number) {
  const database = db.database;
  if (database.kind !== "postgres") throw new Error("the test database is Postgres");
  await database.client`insert into usage_items (trace_id, usage_category, customer_id, month, occurred_at, exact_sparks, status)
    values (${`t-${customerId}`}, 'ai_tokens', ${customerId}, ${MONTH}, now(), ${String(sparks)}, 'sent')`;
}

async function quota(id: string) {
  const res = await app.inject({
    method: "GET",
    url: `/quota?customer_id=${id}`,
    headers: { authorization: `Bearer ${SECRET}` },
  });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

async function reserve(id: string, sparks = 1) {
  const res = await app.inject({
    method: "POST",
    url: "/quota/reserve",
    headers: { authorization: `Bearer ${SECRET}` },
    payload: { customer_id: id, sparks },
  });
  return res.json() as Record<string, unknown>;
}

async function readyz() {
  return (await app.inject({ method: "GET", url: "/readyz" })).json() as Record<string, unknown>;
}

/**
 * Another API process holding the rebuild lock (as under a real multi-process wipe): until it is
 * released this process cannot rebuild, so every answer in between is a "rebuilding" one.
 */
async function holdRebuildLock(): Promise<() => Promise<void>> {
  const key = "sparks:quota:rebuild-lock";
  await connection.set(key, "another-api-process", "PX", 30_000);
  return async () => void (await connection.del(key));
}

async function until(probe: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  redis = await startPrivateRedis();
  db = await createTestDatabase();
  const customers = new CustomerRepository(db.database.db);
  ids.over = (await customers.insert({ auth0UserId: "auth0|wipe-over", tier: "free" })).id;
  ids.under = (await customers.insert({ auth0UserId: "auth0|wipe-under", tier: "free" })).id;
  ids.paid = (await customers.insert({ auth0UserId: "auth0|wipe-paid", tier: "standard" })).id;
  await ledgerUsage(ids.over, 12_000);
  await ledgerUsage(ids.under, 3_000);
  await ledgerUsage(ids.paid, 5_000);
  connection = createRedisConnection(redis.url, "producer");
  queues = new QueueService({ connection, prefix: "sparks" });
  const config = loadConfig({ DATABASE_URL: db.url, REDIS_URL: redis.url, AUTH0_ACTION_SECRET: SECRET });
  app = await buildApp({ config, database: db.database, redis: connection, queues, logger: false });
  await app.ready();
}, 30_000);

afterAll(async () => {
  await app?.close();
  await queues?.close();
  connection?.disconnect();
  await db?.drop();
  await redis?.close();
});

describe("Redis restarted empty under a running API", () => {
  it("counts the ledger's usage from the start (the counters are built before serving)", async () => {
    expect((await quota(ids.over ?? "")).body).toMatchObject({
      used: 12_000,
      allowed: false,
      counters: "live",
    });
    expect((await readyz()).status).toBe("ready");
  });

  it("never answers used: 0 after a wipe; free fails closed, paid open, while the counters are rebuilt", async () => {
    await redis.wipe();
    const release = await holdRebuildLock();
    // The first look after the wipe finds the marker gone: answered from the ledger.
    const [over, under, paid] = await Promise.all([
      quota(ids.over ?? ""),
      quota(ids.under ?? ""),
      quota(ids.paid ?? ""),
    ]);
    expect(over.body).toMatchObject({
      used: 12_000,
      allowed: false,
      reason: "quota_exceeded",
      counters: "rebuilding",
    });
    expect(under.body).toMatchObject({
      used: 3_000,
      allowed: false,
      reason: "counters_unavailable",
      counters: "rebuilding",
    });
    expect(paid.body).toMatchObject({ used: 5_000, allowed: true, reason: null, counters: "rebuilding" });
    await release();
    // Rebuilt from the ledger shortly after; the numbers are the same, now from Redis.
    await until(async () => (await quota(ids.under ?? "")).body.counters === "live");
    expect((await quota(ids.under ?? "")).body).toMatchObject({ used: 3_000, billed: 3_000, allowed: true });
    expect((await quota(ids.over ?? "")).body).toMatchObject({ used: 12_000, allowed: false });
  });

  it("/readyz says degraded while the counters are rebuilt, then ready; an alert is queued", async () => {
    await redis.wipe();
    const degraded = await readyz();
    expect(degraded).toMatchObject({ status: "degraded", degraded: ["quota_counters"] });
    await until(async () => (await readyz()).status === "ready");
    const jobs = await queues
      .queue("alerts")
      .getJobs(["waiting", "delayed", "active", "completed", "failed"]);
    expect(jobs.map((j) => j.data.kind)).toContain("quota_counters_lost");
  });

  it("reserve during a rebuild: free fails closed, paid fails open and its hold is kept", async () => {
    await redis.wipe();
    const release = await holdRebuildLock();
    const [free, paid] = await Promise.all([reserve(ids.under ?? ""), reserve(ids.paid ?? "", 10)]);
    expect(free).toMatchObject({ allowed: false, reason: "counters_unavailable", reservation_id: null });
    expect(paid).toMatchObject({ allowed: true });
    expect(typeof paid.reservation_id).toBe("string");
    await release();
    await until(async () => (await quota(ids.paid ?? "")).body.counters === "live");
    expect((await quota(ids.paid ?? "")).body).toMatchObject({ used: 5_010, held: 10 });
  });

  it("Redis down: answers from the ledger per the fail policy; back up empty: rebuilt", async () => {
    await redis.stop();
    try {
      expect((await quota(ids.under ?? "")).body).toMatchObject({
        used: 3_000,
        allowed: false,
        reason: "counters_unavailable",
        counters: "unavailable",
      });
      expect((await quota(ids.paid ?? "")).body).toMatchObject({
        used: 5_000,
        allowed: true,
        counters: "unavailable",
      });
      expect(await reserve(ids.under ?? "")).toMatchObject({
        allowed: false,
        reason: "counters_unavailable",
      });
      expect(await reserve(ids.paid ?? "")).toMatchObject({ allowed: true, reservation_id: null });
      expect((await app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(503);
    } finally {
      await redis.start();
    }
    await until(async () => (await quota(ids.under ?? "")).body.counters === "live", 20_000);
    expect((await quota(ids.under ?? "")).body).toMatchObject({ used: 3_000, allowed: true });
  }, 30_000);
});
