import { loadConfig } from "@sparks/config";
import { itemsSent, startMetricsPublisher } from "@sparks/observability";
import { createRedisConnection, QueueService } from "@sparks/queues";
import { createTestDatabase, createTestRedis } from "@sparks/testing";
import { Counter, Registry } from "prom-client";
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildApp } from "../src";
import { TEST_LIMITS_ENV } from "./test-limits.env";

let cleanup: () => Promise<void>;
let app: Awaited<ReturnType<typeof buildApp>>;
let testRedis: Awaited<ReturnType<typeof createTestRedis>>;

beforeAll(async () => {
  const db = await createTestDatabase();
  testRedis = await createTestRedis();
  const redis = createRedisConnection(testRedis.url, "producer");
  const queues = new QueueService({ connection: redis, prefix: testRedis.prefix });
  const config = loadConfig({ DATABASE_URL: db.url, REDIS_URL: testRedis.url, ...TEST_LIMITS_ENV });
  app = await buildApp({ config, database: db.database, redis, queues, logger: false });
  await app.ready();
  cleanup = async () => {
    await app.close();
    await queues.close();
    redis.disconnect();
    await testRedis.cleanup();
    await db.drop();
  };
});

afterAll(() => cleanup?.());

function sample(body: string, series: string): number | undefined {
  const line = body.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

it("merges the counters that workers running apart publish to Redis into the API's /metrics", async () => {
  const series = 'sparks_items_sent_total{category="storage"}';
  const before = sample((await app.inject({ method: "GET", url: "/metrics" })).body, series) ?? 0;
  itemsSent.inc({ category: "storage" }, 2); // counted in the API's own process

  // Two worker processes, each with its own registry (as in `sparks worker` ×2).
  const stops: Array<() => Promise<void>> = [];
  for (const n of [5, 7]) {
    const registry = new Registry();
    const counter = new Counter({
      name: "sparks_items_sent_total",
      help: "Usage items sent to Stripe",
      labelNames: ["category"],
      registers: [registry],
    });
    counter.inc({ category: "storage" }, n);
    stops.push(
      startMetricsPublisher(testRedis.connection, {
        prefix: testRedis.prefix,
        id: `worker-test-${n}`,
        intervalMs: 60_000,
        registry,
      }),
    );
  }
  await new Promise((r) => setTimeout(r, 200));
  const body = (await app.inject({ method: "GET", url: "/metrics" })).body;
  expect(sample(body, series)).toBe(before + 2 + 5 + 7);
  for (const stop of stops) await stop();
});
