import { correctionTotals, TIER_NAMES, type TierName } from "@sparks/core";
import {
  CustomerRepository,
  customers,
  executeRows,
  TierHistoryRepository,
  UsageCorrectionRepository,
} from "@sparks/db";
import { StripeSubscriptionService } from "@sparks/stripe";
import { eq } from "drizzle-orm";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, drained, type Harness, syncStatus, waitFor } from "./pipeline.harness";

/**
 * The invoice is the truth: each scenario runs the real pipeline (Langfuse emulator → ledger →
 * push, real Postgres/Redis/BullMQ) against the Stripe emulator through the real SDK, on one
 * shared clock through November 2026, and compares the FINALIZED November invoice with an
 * independent price of the traces (tokens / 10 = Sparks, $0.001 per standard Spark, free $0)
 * and with the ledger's billed − credited = net.
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
const at = (iso: string) => Date.parse(iso);
let clock = at("2026-10-20T12:00:00Z");
let h: Harness;
let subs: StripeSubscriptionService;
const RATE_CENTS_PER_SPARK = 0.1; // $0.001

interface Customer {
  id: string;
  stripeId: string;
  subscriptionId: string;
}
const cust: Record<string, Customer> = {};

async function addCustomer(
  ref: string,
  tier: TierName,
  mode: "flexible" | "classic" = "flexible",
): Promise<Customer> {
  const sc = await h.stripe.customers.create({ email: `${ref}@example.com` });
  await h.deps.database.db.insert(customers).values({ id: ref, stripeCustomerId: sc.id, tier });
  await new TierHistoryRepository(h.deps.database.db).changeTier(ref, tier, new Date(clock), "signup");
  const prices = await subs.tierPrices(tier);
  // Anchored to the 1st at 00:00 UTC, as every Sparks subscription is: November is one invoice.
  const sub = await h.stripe.subscriptions.create({
    customer: sc.id,
    items: prices.prices.map((p) => ({ price: p.priceId })),
    billing_mode: { type: mode },
    billing_cycle_anchor_config: { day_of_month: 1, hour: 0, minute: 0, second: 0 },
  });
  await h.deps.database.db
    .update(customers)
    .set({ stripeSubscriptionId: sub.id })
    .where(eq(customers.id, ref));
  return { id: ref, stripeId: sc.id, subscriptionId: sub.id };
}

/** What `POST /subscriptions/update` does: swap the prices in Stripe, record the segment. */
async function changeTier(c: Customer, tier: TierName): Promise<void> {
  const current = await subs.retrieve(c.subscriptionId);
  await subs.swapTier(current, await subs.tierPrices(tier), `tier-${c.id}-${tier}`);
  await new TierHistoryRepository(h.deps.database.db).changeTier(c.id, tier, new Date(clock), "api");
  await new CustomerRepository(h.deps.database.db).updateTier(c.id, tier);
}

function trace(id: string, ref: string, atMs: number, tokens: number): void {
  h.langfuse.store.addTrace({ id, timestamp: new Date(atMs), userId: ref, metadata: { customer_id: ref } }, [
    generation(id, ref, atMs, tokens),
  ]);
}

function generation(id: string, ref: string, atMs: number, tokens: number) {
  return {
    id: `${id}-gen`,
    traceId: id,
    type: "GENERATION" as const,
    startTime: new Date(atMs),
    endTime: new Date(atMs + 1_000),
    usageDetails: { input: tokens - 100, output: 100, total: tokens },
    metadata: { customer_id: ref },
  };
}

let syncs = 0;
async function sync(from: number): Promise<void> {
  const id = `corr_sync_${++syncs}`;
  await h.deps.queues.add(
    "syncUsage",
    { syncId: id, trigger: "manual", from: new Date(from).toISOString(), to: new Date(clock).toISOString() },
    { jobId: id },
  );
  await waitFor(id, async () => (await syncStatus(h, id)) === "completed");
  await waitFor("drained", async () => (await drained(h)) && (await openCorrections()) === 0);
}

async function openCorrections(): Promise<number> {
  const rows = await executeRows<{ n: unknown }>(
    h.deps.database.db,
    `select (select count(*) from usage_corrections where status = 'pending')
          + (select count(*) from usage_items where status = 'discrepancy' and corrected_at is null) as n`,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * The ledger's billed, credited and net cents of a customer's month, computed as the report's
 * `corrections` section computes them (same repository reads, core `correctionTotals`).
 */
async function ledgerCents(c: Customer): Promise<{ billed: number; credited: number; net: number }> {
  const repo = new UsageCorrectionRepository(h.deps.database.db);
  const billed = await repo.billedSparksOfMonth(c.id, "2026-11");
  const credits = (await repo.ofMonth(c.id, "2026-11")).filter(
    (x) => x.kind !== "cancel" && x.status === "done",
  );
  const totals = correctionTotals(
    [...billed].map(([tier, sparks]) => ({ sparks, rateUsd: tier === "free" ? "0" : "0.001" })),
    credits.map((x) => BigInt(x.cents)),
  );
  return {
    billed: Number(totals.billedCents),
    credited: Number(totals.creditedCents),
    net: Number(totals.netCents),
  };
}

/** The customer's November invoice once finalized, and what credit notes took off it. */
async function novemberInvoice(c: Customer): Promise<{ invoice: Stripe.Invoice; credited: number }> {
  const list = await h.stripe.invoices.list({ customer: c.stripeId, limit: 100 });
  const invoice = list.data.find(
    (i) => i.billing_reason === "subscription_cycle" && i.period_start === at("2026-11-01T00:00:00Z") / 1000,
  );
  if (!invoice) throw new Error(`no November invoice for ${c.id}`);
  const notes = await h.stripe.creditNotes.list({ invoice: invoice.id ?? "", limit: 100 });
  return { invoice, credited: notes.data.reduce((a, n) => a + n.total, 0) };
}

async function events(c: Customer) {
  return executeRows<{
    identifier: string;
    value: string;
    status: string;
    event_timestamp: Date;
    items: string;
  }>(
    h.deps.database.db,
    `select m.identifier, m.value::text as value, m.status, m.event_timestamp,
            (select count(*) from usage_items u where u.meter_event_id = m.id)::text as items
     from meter_events m where m.customer_id = '${c.id}' order by m.id`,
  );
}

beforeAll(async () => {
  h = await createHarness({
    aggregation: "auto",
    now: () => new Date(clock),
    langfuseNow: () => new Date(clock),
    stripeNow: () => clock,
    // `auto` aggregates as soon as there is any backlog: the scenarios' usage arrives as one.
    pipeline: { aggregateAfterSeconds: 0 },
  });
  subs = new StripeSubscriptionService(h.stripe, "sparks");
  cust.up = await addCustomer("cust_up", "free");
  // Created classic (before Sparks set flexible): the tier change migrates it first.
  cust.classic = await addCustomer("cust_classic", "standard", "classic");
  cust.down = await addCustomer("cust_down", "standard");
  cust.shrinkSoon = await addCustomer("cust_shrink_soon", "standard");
  cust.shrinkLate = await addCustomer("cust_shrink_late", "standard");
  cust.shrinkFinal = await addCustomer("cust_shrink_final", "standard");
  expect(TIER_NAMES).toContain("free");
  h.startWorkers();
}, 120_000);

afterAll(() => h?.close());

describe("a tier change mid-month with a backlog large enough to aggregate", () => {
  it("aggregates per price segment, each stamped inside its own segment, keeping every trace", async () => {
    clock = at("2026-11-15T00:00:00Z");
    await changeTier(cust.up as Customer, "standard"); // free until Nov 15, then standard
    await changeTier(cust.classic as Customer, "free"); // classic would drop the standard usage
    expect(
      (await h.stripe.subscriptions.retrieve((cust.classic as Customer).subscriptionId)).billing_mode.type,
    ).toBe("flexible");
    await changeTier(cust.down as Customer, "free"); // standard until Nov 15, then free
    for (const ref of ["cust_up", "cust_down", "cust_classic"]) {
      for (let i = 0; i < 30; i++) trace(`${ref}-a${i}`, ref, at("2026-11-10T10:00:00Z") + i * MIN, 1_000);
      for (let i = 0; i < 10; i++) trace(`${ref}-b${i}`, ref, at("2026-11-16T10:00:00Z") + i * MIN, 1_000);
    }
    clock = at("2026-11-17T00:00:00Z");
    await sync(at("2026-11-09T00:00:00Z"));
    for (const c of [cust.up, cust.down, cust.classic] as Customer[]) {
      const evs = await events(c);
      expect(evs.map((e) => [Number(e.value), Number(e.items), e.identifier.startsWith("agg-")])).toEqual([
        [3_000, 30, true],
        [1_000, 10, true],
      ]);
      const [before, after] = evs.map((e) => new Date(e.event_timestamp).getTime());
      expect(before).toBeLessThan(at("2026-11-15T00:00:00Z"));
      expect(after).toBeGreaterThanOrEqual(at("2026-11-15T00:00:00Z"));
      // Every trace id stays behind its aggregate in the ledger.
      const unbound = await executeRows<{ n: unknown }>(
        h.deps.database.db,
        `select count(*) as n from usage_items where customer_id = '${c.id}' and meter_event_id is null`,
      );
      expect(Number(unbound[0]?.n)).toBe(0);
    }
  });
});

describe("a quantity that shrinks after it was sent", () => {
  it("within 24 h: cancels the meter event and sends the right value under a new identifier", async () => {
    clock = at("2026-11-18T12:00:00Z");
    trace("soon-1", "cust_shrink_soon", at("2026-11-18T10:00:00Z"), 12_000);
    trace("late-1", "cust_shrink_late", at("2026-11-18T10:00:00Z"), 12_000);
    await sync(at("2026-11-18T00:00:00Z"));
    const c = cust.shrinkSoon as Customer;
    expect((await events(c)).map((e) => [e.identifier, Number(e.value)])).toEqual([
      ["ai_tokens-soon-1", 1_200],
    ]);

    clock = at("2026-11-18T14:00:00Z");
    h.langfuse.store.addObservations("soon-1", [
      generation("soon-1", "cust_shrink_soon", at("2026-11-18T10:00:00Z"), 2_000),
    ]);
    await sync(at("2026-11-18T00:00:00Z"));
    const evs = await events(c);
    expect(evs.map((e) => [e.status, Number(e.value)])).toEqual([
      ["cancelled", 1_200],
      ["sent", 200],
    ]);
    expect(evs[1]?.identifier).toMatch(/^fix-ai_tokens-/);
    expect(evs[1]?.event_timestamp).toEqual(evs[0]?.event_timestamp);
    const stripeEvents = h.stripeEmulator.recording.meterTotal(c.stripeId, "sparks_ai_tokens");
    expect(stripeEvents).toBe(200);
    const [correction] = await new UsageCorrectionRepository(h.deps.database.db).ofMonth(c.id, "2026-11");
    expect(correction).toMatchObject({ kind: "cancel", status: "done", sparks: 1_000, traceIds: ["soon-1"] });
    // A repeated sync changes nothing more.
    await sync(at("2026-11-18T00:00:00Z"));
    expect(await events(c)).toHaveLength(2);
  });

  it("after 24 h: credits the period's invoice once, with a negative invoice item", async () => {
    clock = at("2026-11-20T12:00:00Z");
    h.langfuse.store.addObservations("late-1", [
      generation("late-1", "cust_shrink_late", at("2026-11-18T10:00:00Z"), 2_000),
    ]);
    await sync(at("2026-11-18T00:00:00Z"));
    await sync(at("2026-11-18T00:00:00Z")); // replayed: never credits twice
    const c = cust.shrinkLate as Customer;
    expect((await events(c)).map((e) => [e.status, Number(e.value)])).toEqual([["sent", 1_200]]);
    const corrections = await new UsageCorrectionRepository(h.deps.database.db).ofMonth(c.id, "2026-11");
    expect(corrections).toEqual([
      expect.objectContaining({
        kind: "invoice_credit",
        status: "done",
        sparks: 1_000,
        cents: 100,
        traceIds: ["late-1"],
      }),
    ]);
    const items = await h.stripe.invoiceItems.list({ customer: c.stripeId, pending: true });
    expect(items.data.map((i) => i.amount)).toEqual([-100]);
  });

  it("after finalization: a credit note on the finalized invoice", async () => {
    clock = at("2026-11-25T12:00:00Z");
    trace("final-1", "cust_shrink_final", at("2026-11-25T10:00:00Z"), 12_000);
    await sync(at("2026-11-25T00:00:00Z"));
    clock = at("2026-12-01T00:30:00Z"); // Stripe cut November's drafts at midnight
    for (const c of Object.values(cust)) {
      const { invoice } = await novemberInvoice(c);
      if (invoice.status === "draft") await h.stripe.invoices.finalizeInvoice(invoice.id ?? "");
    }
    clock = at("2026-12-01T02:00:00Z");
    h.langfuse.store.addObservations("final-1", [
      generation("final-1", "cust_shrink_final", at("2026-11-25T10:00:00Z"), 2_000),
    ]);
    await sync(at("2026-11-25T00:00:00Z"));
    const c = cust.shrinkFinal as Customer;
    const corrections = await new UsageCorrectionRepository(h.deps.database.db).ofMonth(c.id, "2026-11");
    expect(corrections).toEqual([
      expect.objectContaining({ kind: "credit_note", status: "done", sparks: 1_000, cents: 100 }),
    ]);
  });
});

describe("the finalized November invoices", () => {
  // Independent of the pipeline: the traces priced by hand (tokens / 10 Sparks, 0.1¢ a Spark).
  const expected: Record<string, number> = {
    cust_up: 1_000 * RATE_CENTS_PER_SPARK, // 3,000 free + 1,000 standard
    cust_classic: 3_000 * RATE_CENTS_PER_SPARK,
    cust_down: 3_000 * RATE_CENTS_PER_SPARK, // 3,000 standard + 1,000 free
    cust_shrink_soon: 200 * RATE_CENTS_PER_SPARK,
    cust_shrink_late: 200 * RATE_CENTS_PER_SPARK,
    cust_shrink_final: 200 * RATE_CENTS_PER_SPARK,
  };

  it("equal the ledger's net and the traces' price to the cent", async () => {
    for (const c of Object.values(cust)) {
      const { invoice, credited } = await novemberInvoice(c);
      expect(invoice.status, c.id).not.toBe("draft");
      const ledger = await ledgerCents(c);
      expect({ id: c.id, stripeNet: invoice.total - credited, ledgerNet: ledger.net }).toEqual({
        id: c.id,
        stripeNet: expected[c.id],
        ledgerNet: expected[c.id],
      });
    }
  });

  it("show the credit beside the billed amount", async () => {
    const late = await ledgerCents(cust.shrinkLate as Customer);
    expect(late).toEqual({ billed: 120, credited: 100, net: 20 });
    const { invoice } = await novemberInvoice(cust.shrinkLate as Customer);
    expect(invoice.total).toBe(20);
    const final = await novemberInvoice(cust.shrinkFinal as Customer);
    expect([final.invoice.total, final.credited]).toEqual([120, 100]);
  });
});

void HOUR;
