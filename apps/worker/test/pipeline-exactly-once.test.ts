import { executeRows } from "@sparks/db";
import { type GeneratedTraceRecord, generateFlowiseTraffic } from "@sparks/emulators";
import { listErrors } from "@sparks/ledger";
import { afterAll, beforeAll, expect, it } from "vitest";
import { retryErrors } from "../src";
import {
  type CustomerFixture,
  createHarness,
  drained,
  expectedTotals,
  expectedUsage,
  type Harness,
  stripeTotals,
  syncAndDrain,
  waitFor,
} from "./pipeline.harness";

const HOUR = 3_600_000;
let h: Harness;
let records: GeneratedTraceRecord[];
let fixtures: CustomerFixture[];
const now = Date.now();
const window = { from: new Date(now - 4 * HOUR), to: new Date(now - HOUR / 2) };

beforeAll(async () => {
  h = await createHarness({
    aggregation: "off",
    maxRps: 1_000,
    stripeRateLimit: 0,
    pipeline: { pushConcurrency: 8 },
  });
  records = generateFlowiseTraffic({
    traces: 5_000,
    customers: 20,
    from: new Date(now - 3 * HOUR),
    to: new Date(now - HOUR),
    seed: 7,
    badShare: 0.05,
  });
  h.langfuse.store.addMany(records);
  const refs = Array.from({ length: 20 }, (_, i) => `cust_${String(i + 1).padStart(4, "0")}`);
  fixtures = await h.addCustomers(refs);
  h.startWorkers();
  // Generous bounds: the suite shares two cores with other suites; alone this takes ~20 s.
  await syncAndDrain(h, window, 150_000);
}, 180_000);

afterAll(() => h?.close());

it("sends every good usage item exactly once, to the right customer and meter, by the exact rule", async () => {
  const expected = expectedTotals(records, fixtures);
  const events = h.stripeEmulator.recording.meterEvents();
  const seen = new Map<string, number>();
  for (const e of events) seen.set(e.identifier, (seen.get(e.identifier) ?? 0) + 1);
  // Exactly the good items, each once: nothing else was sent.
  expect([...seen.keys()].sort()).toEqual([...expected.identifiers.keys()].sort());
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
  for (const e of events) {
    const want = expected.identifiers.get(e.identifier);
    expect({ customer: e.customer, eventName: e.eventName }).toEqual({
      customer: want?.stripeId,
      eventName: want?.eventName,
    });
  }
  // Per customer × meter (× month): Stripe holds floor(exact total) — ≤ exact, drift < 1 Spark.
  expect(stripeTotals(h.stripeEmulator)).toEqual(expected.wholeByMeter);
  // Each event's value is what the ledger decided before the call.
  const ledger = await executeRows<{ identifier: string; value: unknown; status: string }>(
    h.deps.database.db,
    `select identifier, value, status from meter_events`,
  );
  const byIdentifier = new Map(ledger.map((r) => [r.identifier, r]));
  for (const e of events) {
    expect(Number(byIdentifier.get(e.identifier)?.value)).toBe(e.value);
    expect(byIdentifier.get(e.identifier)?.status).toBe("sent");
  }
  // One audit row per Stripe call.
  const audits = await executeRows<{ n: unknown }>(
    h.deps.database.db,
    `select count(*) as n from stripe_audit_log`,
  );
  expect(Number(audits[0]?.n)).toBe(
    h.stripeEmulator.recording.filter({ path: "/v1/billing/meter_events" }).length,
  );
});

it("quarantines every bad trace with its reason and sends none of it", async () => {
  const expected = expectedTotals(records, fixtures);
  expect(expected.bad.length).toBeGreaterThan(150);
  const rows = await executeRows<{ trace_id: string; status: string; reason: string | null }>(
    h.deps.database.db,
    `select trace_id, status, reason from usage_items`,
  );
  const byTrace = new Map<string, typeof rows>();
  for (const r of rows) byTrace.set(r.trace_id, [...(byTrace.get(r.trace_id) ?? []), r]);
  const sentTraceIds = new Set(
    h.stripeEmulator.recording.meterEvents().map((e) => e.identifier.split("-")[1]),
  );
  let checked = 0;
  for (const record of expected.bad) {
    const derived = expectedUsage(record);
    const stored = byTrace.get(record.trace.id) ?? [];
    expect(sentTraceIds.has(record.trace.id)).toBe(false);
    if (derived.items.length === 0 && derived.quarantined.length === 0) {
      // e.g. `compute_ms: null`: null counts as absent (SPEC §2 via core), nothing to bill.
      expect(stored).toEqual([]);
      continue;
    }
    expect(stored.length).toBeGreaterThan(0);
    for (const row of stored) {
      expect(row.status).toBe("quarantined");
      expect(row.reason).toBeTruthy();
      if (record.defect === "unknown_customer")
        expect(row.reason).toContain("unknown customer 'cust_unknown_");
      if (record.defect === "missing_customer") expect(row.reason).toContain("missing customer_id");
      if (record.defect === "string_number")
        expect(row.reason).toContain("plain non-negative decimal string");
      if (record.defect === "negative") expect(row.reason).toContain("must not be negative");
      if (record.defect === "huge_value") expect(row.reason).toContain("max_sparks_per_item");
      if (record.defect === "unknown_usage_category") expect(row.reason).toContain("usage_category");
    }
    checked++;
  }
  expect(checked).toBeGreaterThan(100);
  // Nothing else is quarantined: good traces are all pending-free and sent.
  const goodQuarantined = rows.filter(
    (r) => r.status !== "sent" && !expected.bad.some((b) => b.trace.id === r.trace_id),
  );
  expect(goodQuarantined).toEqual([]);
});

it("re-evaluates a quarantined unknown customer after the mapping is fixed, then bills it once", async () => {
  const errors = await listErrors(h.deps);
  const unknown = errors.find(
    (e) => e.status === "quarantined" && e.reason?.startsWith("unknown customer 'cust_unknown_"),
  );
  if (!unknown?.customerRef) throw new Error("no unknown-customer item in the error list");
  expect(unknown).toMatchObject({
    errorId: expect.stringMatching(/^ui_\d+$/),
    nextRetryAt: null,
    attempts: 0,
  });
  expect(Number(unknown.amountAtRisk.sparks)).toBeGreaterThan(0);

  // Before the fix, a retry leaves it quarantined with the same reason.
  expect(await retryErrors(h.deps, [unknown.errorId])).toEqual([
    { errorId: unknown.errorId, status: "quarantined", reason: unknown.reason },
  ]);
  const [fixed] = await h.addCustomers([unknown.customerRef]);
  const outcome = await retryErrors(h.deps, [unknown.errorId, "ui_999999999", "nonsense"]);
  expect(outcome).toEqual([
    { errorId: unknown.errorId, status: "pending", reason: null },
    { errorId: "ui_999999999", status: null, reason: "no such item" },
    { errorId: "nonsense", status: null, reason: "not an error id" },
  ]);
  await waitFor("retried item sent", () => drained(h));
  const identifier = `${unknown.usageCategory}-${unknown.traceId}`;
  const sent = h.stripeEmulator.recording.meterEvents().filter((e) => e.identifier === identifier);
  expect(sent).toHaveLength(1);
  expect(sent[0]?.customer).toBe(fixed?.stripeId);
});
