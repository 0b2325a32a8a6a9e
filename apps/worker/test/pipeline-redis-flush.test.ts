import { type GeneratedTraceRecord, generateFlowiseTraffic } from "@sparks/emulators";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type CustomerFixture,
  createHarness,
  expectedTotals,
  type Harness,
  stripeTotals,
  syncAndDrain,
  waitFor,
} from "./pipeline.harness";

const HOUR = 3_600_000;
const now = Date.now();
const window = { from: new Date(now - 3 * HOUR), to: new Date(now - HOUR / 2) };
let h: Harness;
let records: GeneratedTraceRecord[];
let fixtures: CustomerFixture[];

beforeAll(async () => {
  // A slow budget, so the flush lands while pushes are still running.
  h = await createHarness({ aggregation: "off", maxRps: 150, stripeRateLimit: 0 });
  records = generateFlowiseTraffic({
    traces: 700,
    customers: 6,
    from: new Date(now - 2 * HOUR),
    to: new Date(now - HOUR),
    seed: 23,
  });
  h.langfuse.store.addMany(records);
  fixtures = await h.addCustomers(
    Array.from({ length: 6 }, (_, i) => `cust_${String(i + 1).padStart(4, "0")}`),
  );
  h.startWorkers();
}, 60_000);

afterAll(() => h?.close());

async function flushPrefix(): Promise<number> {
  const redis = h.redis.connection;
  let cursor = "0";
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${h.redis.prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length > 0) removed += await redis.unlink(...keys);
  } while (cursor !== "0");
  return removed;
}

it("rebuilds the work from Postgres after Redis lost every job, with identical totals", async () => {
  await h.deps.queues.add(
    "syncUsage",
    {
      syncId: "sync_before_flush",
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      trigger: "manual",
    },
    { jobId: "sync_before_flush" },
  );
  await waitFor("pushes under way", async () => h.stripeEmulator.recording.meterEvents().length > 100);
  expect(await flushPrefix()).toBeGreaterThan(0);
  const sentAtFlush = h.stripeEmulator.recording.meterEvents().length;
  const expected = expectedTotals(records, fixtures);
  expect(sentAtFlush).toBeLessThan(expected.identifiers.size);
  // The next sync's sweep finds every unsent item in the ledger and queues it again.
  await syncAndDrain(h, window);
  expect(stripeTotals(h.stripeEmulator)).toEqual(expected.wholeByMeter);
  const identifiers = h.stripeEmulator.recording.meterEvents().map((e) => e.identifier);
  expect(new Set(identifiers).size).toBe(identifiers.length);
  expect(identifiers.length).toBe(expected.identifiers.size);
});
