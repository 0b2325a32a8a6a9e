import { executeRows } from "@sparks/db";
import { type GeneratedTraceRecord, generateFlowiseTraffic } from "@sparks/emulators";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type CustomerFixture,
  createHarness,
  expectedTotals,
  type Harness,
  stripeTotals,
  syncAndDrain,
} from "./pipeline.harness";

/**
 * STRIPE_METER_API=v2: the same 1:1 meter events (one per usage item, same identifiers and
 * values), sent through Stripe's v2 stream, 100 per call, through failing calls and an expired
 * session, to the exact totals.
 */
const HOUR = 3_600_000;
const now = Date.now();
let stripeClockOffset = 0;
let h: Harness;
let records: GeneratedTraceRecord[];
let fixtures: CustomerFixture[];

beforeAll(async () => {
  h = await createHarness({
    aggregation: "off",
    meterApi: "v2",
    maxRps: 1_000,
    stripeRateLimit: 0,
    stripeNow: () => Date.now() + stripeClockOffset,
    pipeline: { pushBatch: 250, retryBaseMs: 10 },
  });
  records = generateFlowiseTraffic({
    traces: 900,
    customers: 3,
    from: new Date(now - 2 * HOUR),
    to: new Date(now - HOUR),
    seed: 23,
  });
  h.langfuse.store.addMany(records);
  fixtures = await h.addCustomers(["cust_0001", "cust_0002", "cust_0003"]);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

it("sends every item as its own event through the v2 stream, 100 per call, to the exact totals", async () => {
  // A session that expires mid-run (the emulator's clock jumps 16 minutes after a few calls)
  // and 15% failing stream calls (500s and 429s), retried with the same identifiers.
  let calls = 0;
  const jump = setInterval(() => {
    calls = h.stripeEmulator.recording.filter({ path: "/v2/billing/meter_event_stream" }).length;
    if (calls >= 3 && stripeClockOffset === 0) stripeClockOffset = 16 * 60_000;
  }, 5);
  h.stripeEmulator.faults.randomly({
    rate: 0.15,
    seed: 9,
    path: "/v2/billing/meter_event_stream",
    kinds: ["server_error", "rate_limit"],
  });
  const runtime = h.startWorkers();
  try {
    await syncAndDrain(h, { from: new Date(now - 3 * HOUR), to: new Date(now - HOUR / 2) });
  } finally {
    clearInterval(jump);
    await runtime.close();
  }
  const expected = expectedTotals(records, fixtures);
  expect(stripeTotals(h.stripeEmulator)).toEqual(expected.wholeByMeter);
  const events = h.stripeEmulator.recording.meterEvents();
  expect(events.every((e) => e.source === "v2_stream")).toBe(true);
  // 1:1: one event per good item, each identifier once.
  expect(new Set(events.map((e) => e.identifier))).toEqual(new Set(expected.identifiers.keys()));
  expect(events).toHaveLength(expected.identifiers.size);
  const streamCalls = h.stripeEmulator.recording.filter({ path: "/v2/billing/meter_event_stream" });
  const accepted = streamCalls.filter((r) => r.status === 200).length;
  // Batched: far fewer calls than events (≤ 100 per call; groups of 3 customers × 3 meters).
  expect(accepted).toBeLessThan(events.length / 20);
  expect(streamCalls.some((r) => r.status === 401)).toBe(true); // the session expired once…
  expect(
    h.stripeEmulator.recording.filter({ path: "/v2/billing/meter_event_session" }).length,
  ).toBeGreaterThan(1);
  // Every event is recorded as sent, with one audit row per event per call.
  const rows = await executeRows<{ status: unknown; n: unknown }>(
    h.deps.database.db,
    "select status, count(*) as n from meter_events group by status",
  );
  expect(Object.fromEntries(rows.map((r) => [String(r.status), Number(r.n)]))).toEqual({
    sent: expected.identifiers.size,
  });
  const audit = await executeRows<{ n: unknown }>(
    h.deps.database.db,
    `select count(distinct identifier) as n from stripe_audit_log
     where operation = 'v2.billing.meter_event_stream.create' and response->>'outcome' = 'sent'`,
  );
  expect(Number(audit[0]?.n)).toBe(expected.identifiers.size);
}, 120_000);
