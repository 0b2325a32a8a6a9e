import { loadConfig } from "@sparks/config";
import { redisEpochKey } from "@sparks/queues";
import { createTestDatabase, type PrivateRedis, startPrivateRedis, type TestDatabase } from "@sparks/testing";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningWorker, startWorker } from "../src";

/**
 * Issue 19 item 1: Redis restarted empty (or flushed) under a running worker. The job
 * schedulers come back by themselves (on reconnect, and within one check interval after a
 * flush), the next scheduled sync runs, and an alert is queued. A Redis of the test's own.
 */

let redis: PrivateRedis;
let db: TestDatabase;
let worker: RunningWorker;
const lines: string[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  db = await createTestDatabase();
  worker = await startWorker({
    // Every 2 seconds, so "the next scheduled sync" is seconds away.
    config: loadConfig({ DATABASE_URL: db.url, REDIS_URL: redis.url, SYNC_SCHEDULE: "*/2 * * * * *" }),
    database: db.database,
    redisUrl: redis.url,
    logger: pino({ level: "info" }, { write: (line: string) => void lines.push(line) }),
    schedulerCheckIntervalMs: 500,
  });
}, 60_000);

afterAll(async () => {
  await worker?.close();
  await redis?.close();
  await db?.drop();
});

const syncQueue = () => worker.deps.queues.queue("syncUsage");

/** Scheduled sync jobs that ran (completed or failed: either way the schedule fired). */
async function scheduledRuns(): Promise<number> {
  const counts = await syncQueue().getJobCounts("completed", "failed", "active");
  return (counts.completed ?? 0) + (counts.failed ?? 0) + (counts.active ?? 0);
}

async function expectSchedulesBack(): Promise<void> {
  await expect
    .poll(async () => (await syncQueue().getJobScheduler("sync-usage-schedule")) !== undefined, {
      timeout: 10_000,
    })
    .toBe(true);
  for (const [queue, id] of [
    ["monthClose", "month-close-check"],
    ["reconcile", "reconcile-daily"],
    ["retention", "retention-daily"],
  ] as const) {
    expect(await worker.deps.queues.queue(queue).getJobScheduler(id), id).toBeDefined();
  }
  // The schedule fires again: the next scheduled sync runs within a few periods.
  await expect.poll(scheduledRuns, { timeout: 15_000, interval: 250 }).toBeGreaterThan(0);
}

async function alertQueued(): Promise<boolean> {
  const jobs = await worker.deps.queues
    .queue("alerts")
    .getJobs(["waiting", "active", "completed", "failed", "delayed"]);
  return jobs.some((j) => (j.data as { kind?: string }).kind === "redis_data_lost");
}

it("runs the scheduled sync before anything goes wrong", async () => {
  await expect.poll(scheduledRuns, { timeout: 15_000, interval: 250 }).toBeGreaterThan(0);
  expect(await worker.deps.connection.get(redisEpochKey(worker.deps.queues.prefix))).toBeTruthy();
});

it("FLUSHALL under the running worker: schedulers re-created, the next sync runs, an alert fires", async () => {
  await redis.wipe();
  expect(await syncQueue().getJobScheduler("sync-usage-schedule")).toBeUndefined();
  await expectSchedulesBack();
  await expect.poll(alertQueued, { timeout: 10_000 }).toBe(true);
  expect(lines.some((l) => l.includes("Redis lost its data"))).toBe(true);
}, 40_000);

it("Redis stopped and restarted empty: re-asserted on reconnect", async () => {
  const before = lines.filter((l) => l.includes("Redis lost its data")).length;
  await redis.stop();
  await new Promise((r) => setTimeout(r, 1_000));
  await redis.start();
  await expectSchedulesBack();
  await expect.poll(alertQueued, { timeout: 10_000 }).toBe(true);
  expect(lines.filter((l) => l.includes("Redis lost its data")).length).toBeGreaterThan(before);
}, 60_000);
