import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CustomerRepository, type Database } from "@sparks/db";
import { UsageCounters } from "@sparks/queues";
import { createTestDatabase, type PrivateRedis, startPrivateRedis, type TestDatabase } from "@sparks/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const apiDir = fileURLToPath(new URL("..", import.meta.url));
const SECRET = "two-process-service-secret-0123";

interface ApiProcess {
  child: ChildProcess;
  port: number;
}

/** `sparks api` as production runs it: its own process, sharing Redis and Postgres. */
async function startApiProcess(env: Record<string, string>): Promise<ApiProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: apiDir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const port = /listening at http:\/\/[^:]+:(\d+)/.exec(out)?.[1];
    if (port) return { child, port: Number(port) };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the API did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let redis: PrivateRedis;
let db: TestDatabase;
let database: Database;
let apis: ApiProcess[] = [];

beforeAll(async () => {
  // A Redis of this test's own: both processes use the default `sparks` prefix on it.
  redis = await startPrivateRedis();
  db = await createTestDatabase();
  database = db.database;
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    AUTH0_ACTION_SECRET: SECRET,
    PORT: "0",
    LOG_LEVEL: "info",
  };
  apis = await Promise.all([startApiProcess(env), startApiProcess(env)]);
}, 60_000);

afterAll(async () => {
  for (const api of apis) api.child.kill("SIGKILL");
  await db?.drop();
  await redis?.close();
});

describe("POST /quota/reserve across two API processes sharing Redis", () => {
  it("500 concurrent reservations of 1 Spark at 9,990 of 10,000, split over both: exactly 10 allowed", async () => {
    const row = await new CustomerRepository(database.db).insert({
      auth0UserId: "auth0|two-proc",
      tier: "free",
    });
    const client = new Redis(redis.url);
    try {
      const month = new Date().toISOString().slice(0, 7);
      await new UsageCounters({ redis: client }).setMonthTotal(row.id, month, 9_990);
      const answers = await Promise.all(
        Array.from({ length: 500 }, async (_, i) => {
          const api = apis[i % 2];
          const res = await fetch(`http://127.0.0.1:${api?.port}/quota/reserve`, {
            method: "POST",
            headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
            body: JSON.stringify({ customer_id: row.id, sparks: 1 }),
          });
          return { status: res.status, body: (await res.json()) as { allowed: boolean }, api: i % 2 };
        }),
      );
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      expect(answers.filter((a) => a.body.allowed)).toHaveLength(10);
      // Both processes took part in the race.
      expect(new Set(answers.map((a) => a.api))).toEqual(new Set([0, 1]));
      const res = await fetch(`http://127.0.0.1:${apis[1]?.port}/quota?customer_id=${row.id}`, {
        headers: { authorization: `Bearer ${SECRET}` },
      });
      expect(await res.json()).toMatchObject({
        used: 10_000,
        held: 10,
        allowed: false,
        reason: "quota_exceeded",
      });
    } finally {
      client.disconnect();
    }
  }, 60_000);
});
