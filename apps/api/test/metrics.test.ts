import { type Env, loadConfig } from "@sparks/config";
import { executeRows } from "@sparks/db";
import { itemsSent, stripeRequests } from "@sparks/observability";
import { createRedisConnection, QueueService } from "@sparks/queues";
import { createTestDatabase, createTestRedis, TEST_REDIS_URL, type TestDatabase } from "@sparks/testing";
import { Worker } from "bullmq";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src";
import { TEST_LIMITS_ENV } from "./test-limits.env";

const NOW = new Date("2026-11-03T12:00:00.000Z");

interface Harness {
  app: FastifyInstance;
  queues: QueueService;
  prefix: string;
  db: TestDatabase;
  close(): Promise<void>;
}

async function harness(env: Env = {}): Promise<Harness> {
  const db = await createTestDatabase();
  const testRedis = await createTestRedis();
  const redis = createRedisConnection(testRedis.url, "producer");
  const queues = new QueueService({ connection: redis, prefix: testRedis.prefix });
  const config = loadConfig({ DATABASE_URL: db.url, REDIS_URL: testRedis.url, ...TEST_LIMITS_ENV, ...env });
  const app = await buildApp({ config, database: db.database, redis, queues, logger: false, now: () => NOW });
  await app.ready();
  return {
    app,
    queues,
    prefix: testRedis.prefix,
    db,
    async close() {
      await app.close();
      await queues.close();
      redis.disconnect();
      await testRedis.cleanup();
      await db.drop();
    },
  };
}

/** The value of one sample line, e.g. `sparks_queue_depth{queue="alerts",state="waiting"}`. */
function sample(body: string, series: string): number | undefined {
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("GET /metrics (open: no SPARKS_ADMIN_USER)", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("shows queue depth per state for a queue with waiting jobs", async () => {
    await h.queues.add("syncUsage", { syncId: "s1" });
    await h.queues.add("syncUsage", { syncId: "s2" });
    await h.queues.add("monthClose", { month: "2026-10" }, { delay: 60_000 });
    const res = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(sample(res.body, 'sparks_queue_depth{queue="sync-usage",state="waiting"}')).toBe(2);
    expect(sample(res.body, 'sparks_queue_depth{queue="month-close",state="delayed"}')).toBe(1);
    expect(sample(res.body, 'sparks_queue_depth{queue="alerts",state="waiting"}')).toBe(0);
    expect(sample(res.body, 'sparks_queue_failed{queue="sync-usage"}')).toBe(0);
  });

  it("counts a failed job in the queue's failed series", async () => {
    const job = await h.queues.add(
      "alerts",
      { kind: "sync_failures", dedupeKey: "k", title: "t", text: "" },
      { attempts: 1 },
    );
    const connection = createRedisConnection(TEST_REDIS_URL, "worker");
    const worker = new Worker(
      "alerts",
      async () => {
        throw new Error("boom");
      },
      { connection, prefix: h.prefix },
    );
    try {
      const queue = h.queues.queue("alerts");
      for (let i = 0; i < 100 && (await queue.getJobState(job.id ?? "")) !== "failed"; i += 1) {
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await worker.close();
      connection.disconnect();
    }
    const res = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(sample(res.body, 'sparks_queue_failed{queue="alerts"}')).toBe(1);
  });

  it("reports sync lag from the last closed window, and the shared counters", async () => {
    await executeRows(
      h.db.database.db,
      "insert into sync_windows (name, last_closed_end) values ('langfuse:v2', '2026-11-03T11:45:00Z')",
    );
    itemsSent.inc({ category: "llm_tokens" }, 3);
    stripeRequests.inc({ operation: "meter_event", outcome: "ok" });
    const res = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(sample(res.body, 'sparks_sync_lag_seconds{window="langfuse:v2"}')).toBe(900);
    expect(sample(res.body, 'sparks_items_sent_total{category="llm_tokens"}')).toBe(3);
    expect(sample(res.body, 'sparks_stripe_requests_total{operation="meter_event",outcome="ok"}')).toBe(1);
    expect(res.body).toContain("# TYPE sparks_webhook_events_total counter");
    expect(res.body).toContain("process_cpu_user_seconds_total");
  });
});

describe("GET /metrics with SPARKS_ADMIN_USER set", () => {
  let h: Harness;
  const user = "operator";
  const password = "correct-horse-battery";
  beforeAll(async () => {
    h = await harness({ SPARKS_ADMIN_USER: user, SPARKS_ADMIN_PASSWORD: password });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("needs the operator's basic auth", async () => {
    const anonymous = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toMatch(/^Basic/);
    const ok = await h.app.inject({
      method: "GET",
      url: "/metrics",
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain("sparks_queue_depth");
  });

  it("leaves the other routes alone", async () => {
    expect((await h.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });
});
