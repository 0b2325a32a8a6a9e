import { loadConfig } from "@sparks/config";
import { executeRows } from "@sparks/db";
import { requestSync } from "@sparks/ledger";
import { QueueService } from "@sparks/queues";
import { createTestDatabase, createTestRedis } from "@sparks/testing";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createWorkers, type WorkerRuntime } from "../src/index";

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let redis: Awaited<ReturnType<typeof createTestRedis>>;
let queues: QueueService;
let runtime: WorkerRuntime | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = await createTestRedis();
  queues = new QueueService({ connection: redis.connection, prefix: redis.prefix });
});

afterAll(async () => {
  await runtime?.close();
  await queues.close();
  await redis.cleanup();
  await db.drop();
});

it("a sync BullMQ gives up on is recorded as failed, not left queued or running", async () => {
  // No Langfuse keys: the sync job fails permanently before it can record anything itself.
  const deps = {
    config: loadConfig({}),
    database: db.database,
    connection: redis.connection,
    queues,
    logger: pino({ level: "silent" }),
  };
  runtime = createWorkers(deps, { only: ["syncUsage"] });
  const { syncId } = await requestSync({ database: db.database, queues }, { trigger: "manual" });
  let row: { status: string; error: string | null } | undefined;
  for (let i = 0; i < 100; i++) {
    [row] = await executeRows<{ status: string; error: string | null }>(
      db.database.db,
      `select status, error from sync_runs where id = '${syncId}'`,
    );
    if (row?.status === "failed") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(row?.status).toBe("failed");
  expect(row?.error).toMatch(/Langfuse is not configured/);
});
