import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { executeRows } from "@sparks/db";
import { type GeneratedTraceRecord, generateFlowiseTraffic } from "@sparks/emulators";
import { jobCatalog } from "@sparks/queues";
import { Worker } from "bullmq";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type CustomerFixture,
  createHarness,
  drained,
  expectedTotals,
  type Harness,
  stripeTotals,
  syncStatus,
  waitFor,
} from "./pipeline.harness";

const HOUR = 3_600_000;
const now = Date.now();
const window = { from: new Date(now - 3 * HOUR), to: new Date(now - HOUR / 2) };
const entry = fileURLToPath(new URL("./fixtures/worker-child.entry.ts", import.meta.url));
let h: Harness;
let records: GeneratedTraceRecord[];
let fixtures: CustomerFixture[];
const children: ChildProcess[] = [];
const stalledCheckers: Worker[] = [];

async function spawnWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    env: {
      ...process.env,
      SPARKS_CHILD_SPEC: JSON.stringify({
        databaseUrl: h.database.url,
        redisUrl: h.redis.url,
        prefix: h.redis.prefix,
        env: h.env,
      }),
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`worker child exited early (${code})`)));
  });
  return child;
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

async function requestSync(syncId: string): Promise<void> {
  await h.deps.queues.add(
    "syncUsage",
    { syncId, from: window.from.toISOString(), to: window.to.toISOString(), trigger: "manual" },
    { jobId: syncId },
  );
}

async function observationsRead(syncId: string): Promise<number> {
  const rows = await executeRows<{ n: unknown }>(
    h.deps.database.db,
    `select coalesce((counts->>'observations')::int, 0) as n from sync_runs where id = '${syncId}'`,
  );
  return Number(rows[0]?.n ?? 0);
}

beforeAll(async () => {
  h = await createHarness({ aggregation: "off", maxRps: 120, stripeRateLimit: 0 });
  records = generateFlowiseTraffic({
    traces: 1_500,
    customers: 6,
    from: new Date(now - 2 * HOUR),
    to: new Date(now - HOUR),
    seed: 31,
  });
  h.langfuse.store.addMany(records);
  fixtures = await h.addCustomers(
    Array.from({ length: 6 }, (_, i) => `cust_${String(i + 1).padStart(4, "0")}`),
  );
}, 60_000);

afterAll(async () => {
  for (const checker of stalledCheckers) await checker.close();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) await kill9(child);
  await h?.close();
});

it("survives SIGKILL mid-sync and mid-push: identical totals, nothing billed twice", async () => {
  const expected = expectedTotals(records, fixtures);
  const first = await spawnWorker();
  await requestSync("sync_kill_1");
  await waitFor("sync under way", async () => (await observationsRead("sync_kill_1")) > 0, 30_000, 5);
  await kill9(first);
  expect(await syncStatus(h, "sync_kill_1")).toBe("running");

  const second = await spawnWorker();
  await requestSync("sync_kill_2");
  await waitFor("sync 2", async () => (await syncStatus(h, "sync_kill_2")) === "completed", 30_000);
  await waitFor(
    "pushes under way",
    async () => h.stripeEmulator.recording.meterEvents().length > 150,
    30_000,
    5,
  );
  await kill9(second);
  const acceptedAtKill = h.stripeEmulator.recording.meterEvents().length;
  expect(acceptedAtKill).toBeLessThan(expected.identifiers.size);

  // A third process: BullMQ hands it the jobs the dead one held (stalled), and any event
  // decided but unconfirmed is resent with the same identifier and value. BullMQ's stalled
  // check runs every 30 s in production; a checker at 1 s stands in for it to keep this short.
  await spawnWorker();
  for (const name of ["pushMeterEvents", "syncUsage"] as const) {
    const checker = new Worker(jobCatalog[name].queue, null, {
      connection: h.redis.connection,
      prefix: h.redis.prefix,
      autorun: false,
      stalledInterval: 1_000,
    });
    stalledCheckers.push(checker);
    void checker.startStalledCheckTimer();
  }
  await requestSync("sync_kill_3");
  await waitFor("sync 3", async () => (await syncStatus(h, "sync_kill_3")) === "completed", 30_000);
  await waitFor("drained", () => drained(h), 90_000);

  expect(stripeTotals(h.stripeEmulator)).toEqual(expected.wholeByMeter);
  const identifiers = h.stripeEmulator.recording.meterEvents().map((e) => e.identifier);
  expect(new Set(identifiers).size).toBe(identifiers.length);
  expect(identifiers.length).toBe(expected.identifiers.size);
}, 240_000);
