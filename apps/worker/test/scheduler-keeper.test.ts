import { loadConfig } from "@sparks/config";
import { JOB_NAMES, redisEpochKey } from "@sparks/queues";
import { createTestDatabase, type PrivateRedis, startPrivateRedis, type TestDatabase } from "@sparks/testing";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningWorker, SCHEDULER_IDS, startWorker } from "../src";

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
  // Bounded: a scheduled sync caught mid-flight by the restarts may hold the worker's close;
  // stopping the private Redis below ends it either way.
  await Promise.race([worker?.close(), new Promise((r) => setTimeout(r, 15_000))]);
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
  for (const [queue, id] of [
    ["syncUsage", "sync-usage-schedule"],
    ["monthClose", "month-close-check"],
    ["reconcile", "reconcile-daily"],
    ["retention", "retention-daily"],
    ["quotaRefresh", "quota-refresh"],
  ] as const) {
    await expect
      .poll(async () => (await worker.deps.queues.queue(queue).getJobScheduler(id)) !== undefined, {
        timeout: 10_000,
        message: id,
      })
      .toBe(true);
  }
  // The schedule fires again: the next scheduled sync runs within a few periods.
  await expect.poll(scheduledRuns, { timeout: 15_000, interval: 250 }).toBeGreaterThan(0);
}

const wipeLines = () => lines.filter((l) => l.includes("Redis lost its data")).length;

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

it("the keeper watches every scheduler the worker creates", async () => {
  const created: string[] = [];
  for (const name of JOB_NAMES) {
    for (const s of await worker.deps.queues.queue(name).getJobSchedulers()) created.push(`${name}/${s.key}`);
  }
  expect(created.sort()).toEqual(SCHEDULER_IDS.map(([queue, id]) => `${queue}/${id}`).sort());
});

it("FLUSHALL under the running worker: schedulers re-created, the next sync runs, an alert fires", async () => {
  const before = wipeLines();
  await redis.wipe();
  await expect.poll(wipeLines, { timeout: 10_000 }).toBeGreaterThan(before);
  await expectSchedulesBack();
  await expect.poll(alertQueued, { timeout: 10_000 }).toBe(true);
}, 40_000);

it("Redis stopped and restarted empty: re-asserted on reconnect", async () => {
  const before = wipeLines();
  await redis.stop();
  await new Promise((r) => setTimeout(r, 1_000));
  await redis.start();
  await expect.poll(wipeLines, { timeout: 10_000 }).toBeGreaterThan(before);
  await expectSchedulesBack();
  await expect.poll(alertQueued, { timeout: 10_000 }).toBe(true);
}, 60_000);
