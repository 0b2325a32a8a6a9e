import { executeRows } from "@sparks/db";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, drained, type Harness, syncStatus, waitFor } from "./pipeline.harness";

const MIN = 60_000;
// Whole seconds: Stripe keeps Unix seconds.
const t0 = Math.floor((Date.now() - 3 * 60 * MIN) / 1000) * 1000;
let clock = t0;
let h: Harness;
let customerStripeId: string;
const TRACE = "trace-late-1";

function generation(id: string, atMs: number, total: number, visibleAtMs?: number) {
  return {
    id,
    traceId: TRACE,
    type: "GENERATION" as const,
    startTime: new Date(atMs),
    endTime: new Date(atMs + 500),
    usageDetails: { input: total - 10, output: 10, total },
    metadata: { customer_id: "cust_late" },
    ...(visibleAtMs === undefined ? {} : { visibleAt: new Date(visibleAtMs) }),
  };
}

async function sync(id: string, window?: { from: Date; to: Date }): Promise<void> {
  await h.deps.queues.add(
    "syncUsage",
    {
      syncId: id,
      trigger: "manual",
      ...(window ? { from: window.from.toISOString(), to: window.to.toISOString() } : {}),
    },
    { jobId: id },
  );
  await waitFor(id, async () => (await syncStatus(h, id)) === "completed");
  await waitFor("drained", () => drained(h));
}

beforeAll(async () => {
  h = await createHarness({
    aggregation: "off",
    now: () => new Date(clock),
    langfuseNow: () => new Date(clock),
  });
  const [c] = await h.addCustomers(["cust_late"]);
  customerStripeId = c?.stripeId ?? "";
  h.langfuse.store.addTrace(
    { id: TRACE, timestamp: new Date(t0), userId: "cust_late", metadata: { customer_id: "cust_late" } },
    [
      generation("gen-early", t0 + 10_000, 1_234),
      // Langfuse shows this one 20 minutes late: after the window was first read.
      generation("gen-late", t0 + 20_000, 566, t0 + 20 * MIN),
    ],
  );
  h.startWorkers();
}, 60_000);

afterAll(() => h?.close());

it("bills an observation that arrives after its window was read exactly once, as a correction", async () => {
  clock = t0 + 16 * MIN; // closed windows end at t0 + 1 min: gen-late is not visible yet
  await sync("sync_late_1", { from: new Date(t0 - 60 * MIN), to: new Date(clock) });
  const first = h.stripeEmulator.recording.meterEvents().map((e) => [e.identifier, e.value]);
  expect(first).toEqual([[`ai_tokens-${TRACE}`, 123]]); // 1,234 tokens = 123.4 Sparks

  clock = t0 + 30 * MIN; // the default window re-scans from the watermark minus the lag
  await sync("sync_late_2");
  clock = t0 + 45 * MIN;
  await sync("sync_late_3");
  const events = h.stripeEmulator.recording.meterEvents().map((e) => [e.identifier, e.value]);
  // 1,800 tokens = 180 Sparks in total: floor(exact), the correction carries the remaining 57.
  expect(events).toEqual([
    [`ai_tokens-${TRACE}`, 123],
    [`ai_tokens-${TRACE}-r1`, 57],
  ]);
  expect(h.stripeEmulator.recording.meterTotal(customerStripeId, "sparks_ai_tokens")).toBe(180);
  const rows = await executeRows<{ quantity_revision: unknown; quantity: string; status: string }>(
    h.deps.database.db,
    `select quantity_revision, quantity::text as quantity, status from usage_items where trace_id = '${TRACE}' order by quantity_revision`,
  );
  expect(rows.map((r) => [Number(r.quantity_revision), r.quantity, r.status])).toEqual([
    [0, "1234", "sent"],
    [1, "566", "sent"],
  ]);
});

it("records a quantity that shrank after sending as a discrepancy and gives it back, never a negative event", async () => {
  h.langfuse.store.addObservations(TRACE, [generation("gen-late", t0 + 20_000, 166)]);
  await sync("sync_late_4", { from: new Date(t0 - 60 * MIN), to: new Date(clock) });
  // 1,400 tokens now = 140 Sparks: the newest event (-r1, 57) is cancelled within Stripe's
  // 24 h and its right value (17) sent under a new identifier; no event is negative.
  const events = h.stripeEmulator.recording.meterEvents();
  expect(events.map((e) => [e.identifier.startsWith("fix-") ? "fix" : e.identifier, e.value])).toEqual([
    [`ai_tokens-${TRACE}`, 123],
    [`ai_tokens-${TRACE}-r1`, 57],
    ["fix", 17],
  ]);
  expect(events.every((e) => e.value >= 0)).toBe(true);
  expect(h.stripeEmulator.recording.meterTotal(customerStripeId, "sparks_ai_tokens")).toBe(140);
  const rows = await executeRows<{ quantity: string; exact: string; status: string; reason: string }>(
    h.deps.database.db,
    `select quantity::text as quantity, exact_sparks::text as exact, status, reason from usage_items
     where trace_id = '${TRACE}' and quantity_revision = 2`,
  );
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ quantity: "-400", status: "discrepancy" });
  expect(Number(rows[0]?.exact)).toBe(-40);
  expect(rows[0]?.reason).toContain("shrank after it was sent");
});
