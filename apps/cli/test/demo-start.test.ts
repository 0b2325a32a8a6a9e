import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executeRows } from "@sparks/db";
import { createRedisConnection } from "@sparks/queues";
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from "@sparks/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cleanEnv, exited, spawnSparks, until } from "./cli-harness";

// `sparks start` uses BullMQ's fixed `sparks` prefix: this test owns a Redis database of its own.
const REDIS_URL = `${TEST_REDIS_URL.replace(/\/\d+$/, "")}/12`;

let db: TestDatabase;
let dataDir: string;

async function flushSparksKeys(): Promise<void> {
  const redis = createRedisConnection(REDIS_URL, "worker");
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", "sparks:*", "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  await flushSparksKeys();
  db = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "sparks-demo-"));
});

afterAll(async () => {
  await db?.drop();
  await rm(dataDir, { recursive: true, force: true });
  await flushSparksKeys();
});

it("`sparks start` without keys runs the demo: usage reaches the Stripe emulator within 90 s", async () => {
  const { child, output } = spawnSparks(
    ["start"],
    cleanEnv({ DATABASE_URL: db.url, REDIS_URL, PORT: "0", SPARKS_DATA_DIR: dataDir, LOG_LEVEL: "info" }),
  );
  try {
    const url = await until(
      async () =>
        output()
          .match(/"url":"(http:\/\/[^"]+)"/)?.[1]
          ?.replace("0.0.0.0", "127.0.0.1"),
      60_000,
      "the API url in the log",
    );
    expect(output()).toContain("demo mode: no Langfuse or Stripe keys configured");
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(output()).toContain("demo mode: first sync enqueued");
    const sent = await until(
      async () => {
        const rows = await executeRows<{ n: unknown }>(
          db.database.db,
          "select count(*) as n from usage_items where status = 'sent'",
        );
        const n = Number(rows[0]?.n ?? 0);
        return n > 0 ? n : undefined;
      },
      90_000,
      `sent usage items\n${output().slice(-2000)}`,
    );
    expect(sent).toBeGreaterThan(0);
    // The five demo customers were signed up (Auth0 ids, one Stripe customer each).
    const customers = await executeRows<{ n: unknown }>(
      db.database.db,
      "select count(*) as n from customers where auth0_user_id like 'auth0|demo-%' and stripe_customer_id is not null",
    );
    expect(Number(customers[0]?.n)).toBe(5);
    // Bull Board answers with the demo operator credentials printed in the log.
    const board = await fetch(`${url}/admin/queues`, {
      headers: { authorization: `Basic ${Buffer.from("admin:sparks-demo-local").toString("base64")}` },
    });
    expect(board.status).toBe(200);
  } finally {
    child.kill("SIGTERM");
    const code = await exited(child);
    expect(code, output().slice(-3000)).toBe(0);
  }
}, 180_000);
