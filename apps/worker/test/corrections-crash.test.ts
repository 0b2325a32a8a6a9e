import { customers, executeRows, UsageCorrectionRepository } from "@sparks/db";
import { type StripeCorrectionService, StripeSubscriptionService } from "@sparks/stripe";
import { afterAll, beforeAll, expect, it } from "vitest";
import { pushMeterEvents, runSync } from "../src";
import type { WorkerDeps } from "../src/worker-deps";
import { createHarness, type Harness } from "./pipeline.harness";

/**
 * Giving a shrink back is crash-safe: a job that died after Stripe accepted the cancel or the
 * credit, but before the ledger recorded it, is retried without cancelling or crediting twice
 * (the correction's key is the idempotency key and, for credits, metadata looked up first — also
 * after Stripe's 24 h idempotency memory has passed). No workers run: the test drives the jobs.
 */
const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
let clock = at("2026-11-01T12:00:00Z");
let h: Harness;
let stripeId = "";
const ref = "cust_crash";
const group = { customerId: ref, category: "ai_tokens", month: "2026-11" };

function trace(id: string, atMs: number, tokens: number, add = true) {
  const gen = {
    id: `${id}-gen`,
    traceId: id,
    type: "GENERATION" as const,
    startTime: new Date(atMs),
    endTime: new Date(atMs + 1_000),
    usageDetails: { input: tokens - 100, output: 100, total: tokens },
    metadata: { customer_id: ref },
  };
  if (add)
    h.langfuse.store.addTrace(
      { id, timestamp: new Date(atMs), userId: ref, metadata: { customer_id: ref } },
      [gen],
    );
  else h.langfuse.store.addObservations(id, [gen]);
}

let syncs = 0;
async function ingest(from: number): Promise<void> {
  await runSync(h.deps, {
    syncId: `crash_sync_${++syncs}`,
    from: new Date(from).toISOString(),
    to: new Date(clock).toISOString(),
    customerId: null,
    trigger: "manual",
  });
}

/** The real correction service, but the job "dies" right after Stripe accepted each call. */
function dyingAfterStripe(): WorkerDeps {
  const real = h.deps.stripe?.corrections as StripeCorrectionService;
  const dying = Object.create(real) as StripeCorrectionService;
  dying.cancelMeterEvent = async (...args) => {
    await real.cancelMeterEvent(...args);
    throw new Error("worker killed after the cancel was accepted");
  };
  dying.credit = async (input) => {
    await real.credit(input);
    throw new Error("worker killed after the credit was accepted");
  };
  return {
    ...h.deps,
    stripe: { ...(h.deps.stripe as NonNullable<WorkerDeps["stripe"]>), corrections: dying },
  };
}

async function corrections() {
  return new UsageCorrectionRepository(h.deps.database.db).ofMonth(ref, "2026-11");
}

beforeAll(async () => {
  h = await createHarness({
    aggregation: "off",
    now: () => new Date(clock),
    langfuseNow: () => new Date(clock),
    stripeNow: () => clock,
  });
  const sc = await h.stripe.customers.create({ email: "crash@example.com" });
  stripeId = sc.id;
  const subs = new StripeSubscriptionService(h.stripe, "sparks");
  const sub = await h.stripe.subscriptions.create({
    customer: sc.id,
    items: (await subs.tierPrices("standard")).prices.map((p) => ({ price: p.priceId })),
    billing_mode: { type: "flexible" },
    billing_cycle_anchor_config: { day_of_month: 1, hour: 0, minute: 0, second: 0 },
  });
  await h.deps.database.db
    .insert(customers)
    .values({ id: ref, stripeCustomerId: sc.id, stripeSubscriptionId: sub.id, tier: "standard" });
  clock = at("2026-11-10T12:00:00Z");
  trace("crash-soon", at("2026-11-10T10:00:00Z"), 12_000);
  trace("crash-late", at("2026-11-10T10:30:00Z"), 12_000);
  await ingest(at("2026-11-10T00:00:00Z"));
  await pushMeterEvents(h.deps, group);
}, 60_000);

afterAll(() => h?.close());

it("a cancel accepted by Stripe but not recorded is not repeated in effect: one replacement, right total", async () => {
  clock = at("2026-11-10T14:00:00Z");
  trace("crash-soon", at("2026-11-10T10:00:00Z"), 2_000, false);
  await ingest(at("2026-11-10T00:00:00Z"));
  await expect(pushMeterEvents(dyingAfterStripe(), group)).rejects.toThrow(/killed/);
  expect(await corrections()).toEqual([expect.objectContaining({ kind: "cancel", status: "pending" })]);
  await pushMeterEvents(h.deps, group);
  await pushMeterEvents(h.deps, group); // and once more: nothing left to do
  expect(await corrections()).toEqual([
    expect.objectContaining({ kind: "cancel", status: "done", sparks: 1_000 }),
  ]);
  const fixes = h.stripeEmulator.recording.meterEvents().filter((e) => e.identifier.startsWith("fix-"));
  expect(fixes.map((e) => e.value)).toEqual([200]);
  expect(h.stripeEmulator.recording.meterTotal(stripeId, "sparks_ai_tokens")).toBe(200 + 1_200);
});

it("a credit accepted by Stripe but not recorded is found again, even after 24 h: credited once", async () => {
  clock = at("2026-11-12T12:00:00Z"); // crash-late was sent > 24 h ago: a credit, not a cancel
  trace("crash-late", at("2026-11-10T10:30:00Z"), 2_000, false);
  await ingest(at("2026-11-10T00:00:00Z"));
  await expect(pushMeterEvents(dyingAfterStripe(), group)).rejects.toThrow(/killed/);
  clock += 30 * HOUR; // past Stripe's idempotency memory
  await pushMeterEvents(h.deps, group);
  await pushMeterEvents(h.deps, group);
  const credit = (await corrections()).filter((c) => c.kind === "invoice_credit");
  expect(credit).toEqual([expect.objectContaining({ status: "done", sparks: 1_000, cents: 100 })]);
  const items = await h.stripe.invoiceItems.list({ customer: stripeId, limit: 100 });
  expect(items.data.map((i) => i.amount)).toEqual([-100]);
  expect(credit[0]?.stripeObjectId).toBe(items.data[0]?.id);
  // The ledger's exact total and what Stripe charges agree: 2 × 200 Sparks.
  const rows = await executeRows<{ exact: string }>(
    h.deps.database.db,
    `select sum(exact_sparks)::text as exact from usage_items where customer_id = '${ref}'`,
  );
  expect(Number(rows[0]?.exact)).toBe(400);
});
