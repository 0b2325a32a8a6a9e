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
  type Harness,
  stripeTotals,
  syncStatus,
  waitFor,
} from "./pipeline.harness";

const HOUR = 3_600_000;
const now = Date.now();
const window = { from: new Date(now - 3 * HOUR), to: new Date(now - HOUR / 2) };
let h: Harness;
let records: GeneratedTraceRecord[];
let fixtures: CustomerFixture[];
const PERM_TRACE = "trace-permanent-failure";

beforeAll(async () => {
  h = await createHarness({ aggregation: "off", maxRps: 1_000, stripeRateLimit: 0, stripeTimeoutMs: 300 });
  records = generateFlowiseTraffic({
    traces: 600,
    customers: 6,
    from: new Date(now - 2 * HOUR),
    to: new Date(now - HOUR),
    seed: 5,
  });
  h.langfuse.store.addMany(records);
  fixtures = await h.addCustomers(
    Array.from({ length: 6 }, (_, i) => `cust_${String(i + 1).padStart(4, "0")}`),
  );
  // A customer whose Stripe customer is gone: Stripe refuses its event for good (400).
  const [doomed] = await h.addCustomers(["cust_doomed"]);
  if (!doomed) throw new Error("no fixture");
  await h.stripe.customers.del(doomed.stripeId);
  const t = new Date(now - 90 * 60_000);
  h.langfuse.store.addTrace(
    { id: PERM_TRACE, timestamp: t, userId: "cust_doomed", metadata: { customer_id: "cust_doomed" } },
    [
      {
        id: "obs-perm-1",
        type: "GENERATION",
        startTime: t,
        usageDetails: { input: 900, output: 100, total: 1000 },
        metadata: { customer_id: "cust_doomed" },
      },
    ],
  );
  // 12% of meter-event calls fail: 500s and 429s (10%) and hangs past the client timeout (2%).
  h.stripeEmulator.faults.randomly({
    rate: 0.12,
    seed: 42,
    path: "/v1/billing/meter_events",
    kinds: ["server_error", "server_error", "rate_limit", "rate_limit_should_retry", "server_error", "hang"],
    hangMs: 800,
  });
  h.startWorkers();
}, 60_000);

afterAll(() => h?.close());

it("reaches identical final totals through 500s, 429s and timeouts", async () => {
  const syncId = `sync_faults`;
  await h.deps.queues.add(
    "syncUsage",
    { syncId, from: window.from.toISOString(), to: window.to.toISOString(), trigger: "manual" },
    { jobId: syncId },
  );
  await waitFor("sync", async () => (await syncStatus(h, syncId)) === "completed", 30_000);
  await waitFor("all but the doomed item sent", () => drained(h), 55_000);
  const refused = h.stripeEmulator.recording.refused().filter((r) => r.fault !== null);
  expect(refused.length).toBeGreaterThan(20);
  expect(refused.some((r) => r.fault === "hang")).toBe(true);
  expect(stripeTotals(h.stripeEmulator)).toEqual(expectedTotals(records, fixtures).wholeByMeter);
});

it("puts a permanent failure in the failed set and sends it after retryErrors", async () => {
  const doomed = await executeRows<{ id: unknown; status: string; reason: string }>(
    h.deps.database.db,
    `select id, status, reason from usage_items where trace_id = '${PERM_TRACE}'`,
  );
  expect(doomed).toHaveLength(1);
  expect(doomed[0]?.status).toBe("failed");
  expect(doomed[0]?.reason).toMatch(/No such customer/);
  const errorId = `ui_${doomed[0]?.id}`;
  const failedJobs = await h.deps.queues.queue("pushMeterEvents").getFailed();
  expect(failedJobs.some((j) => j.failedReason.includes(errorId))).toBe(true);
  const errors = await listErrors(h.deps);
  const listed = errors.find((e) => e.errorId === errorId);
  expect(listed).toMatchObject({
    status: "failed",
    nextRetryAt: null,
    amountAtRisk: { sparks: "100", usd: "0.10" },
  });

  // The operator fixes the link, then retries.
  h.stripeEmulator.faults.clear();
  const replacement = await h.stripe.customers.create({ email: "doomed-again@example.com" });
  await executeRows(
    h.deps.database.db,
    `update customers set stripe_customer_id = '${replacement.id}' where id = 'cust_doomed'`,
  );
  const outcome = await retryErrors(h.deps, [errorId]);
  expect(outcome).toEqual([{ errorId, status: "sending", reason: null }]);
  await waitFor("retried item sent", () => drained(h));
  const after = await executeRows<{ status: string }>(
    h.deps.database.db,
    `select status from usage_items where trace_id = '${PERM_TRACE}'`,
  );
  expect(after[0]?.status).toBe("sent");
  expect(h.stripeEmulator.recording.meterTotal(replacement.id, "sparks_ai_tokens")).toBe(100);
});
