import { executeRows } from "@sparks/db";
import { type GeneratedTraceRecord, generateFlowiseTraffic } from "@sparks/emulators";
import { requestSync } from "@sparks/ledger";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type CustomerFixture,
  createHarness,
  drained,
  expectedTotals,
  type Harness,
  stripeTotals,
  syncAndDrain,
  syncStatus,
  waitFor,
} from "./pipeline.harness";

const HOUR = 3_600_000;
const now = Date.now();
const window = { from: new Date(now - 3 * HOUR), to: new Date(now - HOUR / 2) };
let h: Harness;
let records: GeneratedTraceRecord[];
let fixtures: CustomerFixture[];

beforeAll(async () => {
  h = await createHarness({
    aggregation: "off",
    maxRps: 1_000,
    stripeRateLimit: 0,
    pipeline: { chunkMs: HOUR / 4 },
  });
  records = generateFlowiseTraffic({
    traces: 800,
    customers: 8,
    from: new Date(now - 2 * HOUR),
    to: new Date(now - HOUR),
    seed: 11,
    badShare: 0.05,
  });
  h.langfuse.store.addMany(records);
  fixtures = await h.addCustomers(
    Array.from({ length: 8 }, (_, i) => `cust_${String(i + 1).padStart(4, "0")}`),
  );
  // Two runtimes: two sync workers that could run two syncs at once if nothing stopped them.
  h.startWorkers();
  h.startWorkers();
}, 60_000);

afterAll(() => h?.close());

it("gives identical Stripe totals when the same window is synced three times", async () => {
  const expected = expectedTotals(records, fixtures);
  await syncAndDrain(h, window);
  const first = stripeTotals(h.stripeEmulator);
  const eventsAfterFirst = h.stripeEmulator.recording.meterEvents().length;
  expect(first).toEqual(expected.wholeByMeter);
  await syncAndDrain(h, window);
  await syncAndDrain(h, window);
  expect(stripeTotals(h.stripeEmulator)).toEqual(first);
  // Re-reading sent nothing new: no second event, not even a rejected duplicate.
  expect(h.stripeEmulator.recording.meterEvents().length).toBe(eventsAfterFirst);
  expect(h.stripeEmulator.recording.filter({ path: "/v1/billing/meter_events" }).length).toBe(
    eventsAfterFirst,
  );
});

it("never runs two racing syncs in parallel, and they change nothing", async () => {
  const before = stripeTotals(h.stripeEmulator);
  const ids = ["sync_race_a", "sync_race_b"];
  await Promise.all(
    ids.map((syncId) =>
      h.deps.queues.add(
        "syncUsage",
        { syncId, from: window.from.toISOString(), to: window.to.toISOString(), trigger: "manual" },
        { jobId: syncId },
      ),
    ),
  );
  for (const id of ids) await waitFor(id, async () => (await syncStatus(h, id)) === "completed");
  await waitFor("drained", () => drained(h));
  const runs = await executeRows<{ started_at: Date; finished_at: Date }>(
    h.deps.database.db,
    `select started_at, finished_at from sync_runs where id in ('sync_race_a', 'sync_race_b') order by started_at`,
  );
  const [a, b] = runs.map((r) => ({
    start: new Date(r.started_at).getTime(),
    end: new Date(r.finished_at).getTime(),
  }));
  // The second started only after the first finished: serialised by the sync lock.
  expect(b?.start).toBeGreaterThanOrEqual(a?.end ?? Number.POSITIVE_INFINITY);
  expect(stripeTotals(h.stripeEmulator)).toEqual(before);
  const traces = await executeRows<{ n: unknown }>(
    h.deps.database.db,
    `select count(*) as n from sync_run_traces where sync_run_id = 'sync_race_b'`,
  );
  expect(Number(traces[0]?.n)).toBe(records.length);
});

it("gives every scheduled run its own sync id, and joins a default-window request to the active run", async () => {
  await h.deps.queues.add("syncUsage", { syncId: "scheduled", trigger: "schedule" });
  await h.deps.queues.add("syncUsage", { syncId: "scheduled", trigger: "schedule" });
  await waitFor("two scheduled runs", async () => {
    const rows = await executeRows<{ n: unknown }>(
      h.deps.database.db,
      `select count(*) as n from sync_runs where trigger = 'schedule' and status = 'completed'`,
    );
    return Number(rows[0]?.n) === 2;
  });
  const ids = await executeRows<{ id: string }>(
    h.deps.database.db,
    `select id from sync_runs where trigger = 'schedule'`,
  );
  expect(ids.every((r) => /^sync_[0-9a-z]{26}$/.test(r.id))).toBe(true);

  // A request while another run is queued or running joins it instead of starting another.
  await executeRows(
    h.deps.database.db,
    `insert into sync_runs (id, trigger, status) values ('sync_busy', 'manual', 'running')`,
  );
  expect(await requestSync(h.deps, {})).toEqual({
    syncId: "sync_busy",
    status: "running",
    deduplicated: true,
  });
  await executeRows(h.deps.database.db, `update sync_runs set status = 'completed' where id = 'sync_busy'`);
  const fresh = await requestSync(h.deps, {});
  expect(fresh).toMatchObject({ status: "queued", deduplicated: false });
  await waitFor("fresh run", async () => (await syncStatus(h, fresh.syncId)) === "completed");
});
