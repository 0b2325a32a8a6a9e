import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { createStripeEmulator, type StripeEmulator } from "../src/stripe/index";
import { asStripeError, sdkFor, setupMeteredCatalog, unexpected } from "./stripe-helpers";

let emu: StripeEmulator | undefined;

afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const sec = (iso: string): number => Math.floor(Date.parse(iso) / 1000);
const ANCHOR_1ST = { day_of_month: 1, hour: 0, minute: 0, second: 0 };

/** An emulator whose clock starts at `iso`, the SDK, and a metered catalog at 0.1¢ per unit. */
async function start(iso: string, opts: { finalizationGraceSec?: number } = {}) {
  emu = await createStripeEmulator({ now: () => Date.parse(iso), rateLimitPerSecond: 0, ...opts });
  const stripe = sdkFor(emu);
  const catalog = await setupMeteredCatalog(stripe);
  const e = emu;
  const at = (when: string): void => e.advanceClock(Date.parse(when) - e.now());
  /** A meter event of `when`, sent now (the clock moves to `when` first if it is behind). */
  const use = (value: number, when: string, identifier?: string) => {
    if (Date.parse(when) > e.now()) at(when);
    return stripe.billing.meterEvents.create({
      event_name: "sparks_ai_tokens",
      payload: { stripe_customer_id: catalog.customer.id, value: String(value) },
      timestamp: sec(when),
      ...(identifier === undefined ? {} : { identifier }),
    });
  };
  const cycleInvoices = async (subscription: string) =>
    (await stripe.invoices.list({ subscription, limit: 100 })).data.filter(
      (i) => i.billing_reason !== "subscription_create",
    );
  return { emu: e, stripe, ...catalog, at, use, cycleInvoices };
}

describe("Stripe emulator: billing cycle anchors", () => {
  it("anchors to the 1st at 00:00:00 UTC with billing_cycle_anchor_config; the first period is short", async () => {
    const { stripe, customer, price } = await start("2026-10-15T10:20:30Z");
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      billing_cycle_anchor_config: ANCHOR_1ST,
      billing_mode: { type: "flexible" },
    });
    expect(sub.billing_cycle_anchor).toBe(sec("2026-11-01T00:00:00Z"));
    expect(sub.billing_cycle_anchor_config).toMatchObject(ANCHOR_1ST);
    expect(sub.items.data[0]?.current_period_start).toBe(sec("2026-10-15T10:20:30Z"));
    expect(sub.items.data[0]?.current_period_end).toBe(sec("2026-11-01T00:00:00Z"));
  });

  it("takes the start's own time of day when hour, minute and second are omitted", async () => {
    const { stripe, customer, price } = await start("2026-10-15T10:20:30Z");
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      billing_cycle_anchor_config: { day_of_month: 1 },
    });
    expect(sub.billing_cycle_anchor).toBe(sec("2026-11-01T10:20:30Z"));
  });

  it("anchors at creation without a config, and refuses a config together with billing_cycle_anchor", async () => {
    const { stripe, customer, price } = await start("2026-10-15T10:20:30Z");
    const plain = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(plain.billing_cycle_anchor).toBe(sec("2026-10-15T10:20:30Z"));
    expect(plain.items.data[0]?.current_period_end).toBe(sec("2026-11-15T10:20:30Z"));
    const err = await stripe.subscriptions
      .create({
        customer: customer.id,
        items: [{ price: price.id }],
        billing_cycle_anchor: sec("2026-11-01T00:00:00Z"),
        billing_cycle_anchor_config: ANCHOR_1ST,
      })
      .then(unexpected, asStripeError);
    expect(err.statusCode).toBe(400);
    expect(err.param).toBe("billing_cycle_anchor_config");
    const bad = await stripe.subscriptions
      .create({
        customer: customer.id,
        items: [{ price: price.id }],
        billing_cycle_anchor_config: { day_of_month: 32 },
      })
      .then(unexpected, asStripeError);
    expect(bad.param).toBe("billing_cycle_anchor_config[day_of_month]");
  });

  it("keeps day 31 across short months", async () => {
    const { stripe, customer, price, emu: e } = await start("2026-01-05T00:00:00Z");
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      billing_cycle_anchor_config: { day_of_month: 31, hour: 0, minute: 0, second: 0 },
    });
    expect(sub.billing_cycle_anchor).toBe(sec("2026-01-31T00:00:00Z"));
    e.advanceClock(60 * 86_400_000);
    const after = await stripe.subscriptions.retrieve(sub.id);
    expect(after.items.data[0]?.current_period_start).toBe(sec("2026-02-28T00:00:00Z"));
    expect(after.items.data[0]?.current_period_end).toBe(sec("2026-03-31T00:00:00Z"));
  });
});

describe("Stripe emulator: subscription invoices through the months", () => {
  it("cuts a draft at each period end, counts late usage until it finalizes after the grace, then freezes it", async () => {
    const { stripe, customer, price, at, use, cycleInvoices } = await start("2026-10-15T12:00:00Z");
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      billing_cycle_anchor_config: ANCHOR_1ST,
      billing_mode: { type: "flexible" },
    });
    at("2026-10-20T00:00:00Z");
    await use(6000, "2026-10-20T00:00:00Z");
    at("2026-10-31T23:55:00Z");
    await use(20, "2026-10-31T23:55:00Z");
    at("2026-11-01T00:10:00Z");
    const [draft] = await cycleInvoices(sub.id);
    expect(draft).toMatchObject({
      status: "draft",
      period_start: sec("2026-10-15T12:00:00Z"),
      period_end: sec("2026-11-01T00:00:00Z"),
      total: 602,
      automatically_finalizes_at: sec("2026-11-01T01:00:00Z"),
    });
    // Late usage of October, received inside the grace: the draft is re-quantified.
    await use(40, "2026-10-31T23:59:00Z");
    expect((await stripe.invoices.retrieve(draft?.id as string)).total).toBe(606);
    // November usage belongs to the next period.
    await use(1000, "2026-11-01T00:20:00Z");
    expect((await stripe.invoices.retrieve(draft?.id as string)).total).toBe(606);
    at("2026-11-01T01:00:01Z");
    const final = await stripe.invoices.retrieve(draft?.id as string);
    expect(final.status).toBe("open");
    expect(final.total).toBe(606);
    await use(500, "2026-10-31T23:59:30Z");
    expect((await stripe.invoices.retrieve(draft?.id as string)).total).toBe(606);
    at("2026-12-01T00:00:00Z");
    const next = (await cycleInvoices(sub.id)).find((i) => i.id !== draft?.id);
    expect(next).toMatchObject({
      period_start: sec("2026-11-01T00:00:00Z"),
      period_end: sec("2026-12-01T00:00:00Z"),
      total: 100,
    });
  });

  it("holds a draft with auto_advance=false until released", async () => {
    const { stripe, customer, price, at, use, cycleInvoices } = await start("2026-11-01T00:00:00Z");
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      billing_cycle_anchor_config: ANCHOR_1ST,
      billing_mode: { type: "flexible" },
    });
    await use(1234, "2026-11-01T00:00:00Z");
    at("2026-12-01T00:00:00Z");
    const [draft] = await cycleInvoices(sub.id);
    const held = await stripe.invoices.update(draft?.id as string, { auto_advance: false });
    expect(held.automatically_finalizes_at).toBeNull();
    at("2026-12-04T00:00:00Z");
    expect((await stripe.invoices.retrieve(draft?.id as string)).status).toBe("draft");
    await stripe.invoices.update(draft?.id as string, { auto_advance: true });
    const released = await stripe.invoices.retrieve(draft?.id as string);
    expect(released.status).toBe("open");
    expect(released.total).toBe(123);
    const again = await stripe.invoices.finalizeInvoice(draft?.id as string).then(unexpected, asStripeError);
    expect(again.statusCode).toBe(400);
  });

  it("rounds each line to the cent, half up, from the exact decimal", async () => {
    const { stripe, customer, product, meter, at, use, cycleInvoices } = await start("2026-11-01T00:00:00Z");
    const odd = await stripe.prices.create({
      currency: "usd",
      product: product.id,
      unit_amount_decimal: Stripe.Decimal.from("0.095"),
      recurring: { interval: "month", usage_type: "metered", meter: meter.id },
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: odd.id }],
      billing_cycle_anchor_config: ANCHOR_1ST,
      billing_mode: { type: "flexible" },
    });
    // 0.095¢ × 10,010 = 950.95¢ → 951; a float product would give 950.9499999…
    await use(10_010, "2026-11-02T00:00:00Z");
    at("2026-12-01T00:00:01Z");
    const [draft] = await cycleInvoices(sub.id);
    expect(draft?.lines.data.map((l) => l.amount)).toEqual([951]);
  });

  it("bills usage before a flexible price swap at the old price, per time segment", async () => {
    const { stripe, customer, price, product, meter, at, use, cycleInvoices } =
      await start("2026-11-01T00:00:00Z");
    const free = await stripe.prices.create({
      currency: "usd",
      product: product.id,
      unit_amount_decimal: Stripe.Decimal.from("0"),
      recurring: { interval: "month", usage_type: "metered", meter: meter.id },
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: free.id }],
      billing_cycle_anchor_config: ANCHOR_1ST,
      billing_mode: { type: "flexible" },
    });
    at("2026-11-15T00:00:00Z");
    await stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id as string, price: price.id }],
      proration_behavior: "create_prorations",
    });
    at("2026-11-20T00:00:00Z");
    // Sent late (backlog): 3,000 of Nov 10 before the swap, 1,000 of Nov 16 after it.
    await use(3000, "2026-11-10T00:00:00Z");
    await use(1000, "2026-11-16T00:00:00Z");
    at("2026-12-01T00:00:00Z");
    const [draft] = await cycleInvoices(sub.id);
    expect(
      draft?.lines.data.map((l) => ({ q: l.quantity, amount: l.amount, start: l.period.start })),
    ).toEqual([
      { q: 3000, amount: 0, start: sec("2026-11-01T00:00:00Z") },
      { q: 1000, amount: 100, start: sec("2026-11-15T00:00:00Z") },
    ]);
    expect(draft?.total).toBe(100);
  });
});

describe("Stripe emulator: invoice items, credit notes and meter event cancellation", () => {
  it("adds a negative item to a draft, edits and deletes items, and puts pending items on the next invoice", async () => {
    const { stripe, customer, price, at, use, cycleInvoices } = await start("2026-11-01T00:00:00Z");
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      billing_cycle_anchor_config: ANCHOR_1ST,
      billing_mode: { type: "flexible" },
    });
    await use(12_000, "2026-11-05T00:00:00Z");
    const pending = await stripe.invoiceItems.create({
      customer: customer.id,
      amount: 250,
      currency: "usd",
      description: "October usage billed late",
      metadata: { sparks_month: "2026-10" },
      subscription: sub.id,
    });
    at("2026-12-01T00:00:00Z");
    const [draft] = await cycleInvoices(sub.id);
    expect(draft?.total).toBe(1200 + 250);
    const discount = await stripe.invoiceItems.create({
      customer: customer.id,
      invoice: draft?.id as string,
      amount: -60,
      currency: "usd",
      description: "Volume discount 5%",
      metadata: { sparks_kind: "discount" },
    });
    expect(discount.discountable).toBe(false);
    let inv = await stripe.invoices.retrieve(draft?.id as string);
    expect(inv.total).toBe(1390);
    const line = inv.lines.data.find((l) => l.metadata.sparks_kind === "discount");
    expect(line).toMatchObject({ amount: -60, description: "Volume discount 5%" });
    expect(inv.lines.data.find((l) => l.metadata.sparks_month === "2026-10")?.amount).toBe(250);
    await stripe.invoiceItems.update(discount.id, { amount: -72 });
    inv = await stripe.invoices.retrieve(draft?.id as string);
    expect(inv.total).toBe(1378);
    await stripe.invoiceItems.del(pending.id);
    inv = await stripe.invoices.retrieve(draft?.id as string);
    expect(inv.total).toBe(1128);
    await stripe.invoices.finalizeInvoice(draft?.id as string);
    const late = await stripe.invoiceItems
      .create({ customer: customer.id, invoice: draft?.id as string, amount: -1, currency: "usd" })
      .then(unexpected, asStripeError);
    expect(late.statusCode).toBe(400);
  });

  it("credits an open invoice (less due) and a paid one (customer balance used by the next invoice)", async () => {
    const { stripe, customer, price, at, use, cycleInvoices } = await start("2026-11-01T00:00:00Z");
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      billing_cycle_anchor_config: ANCHOR_1ST,
      billing_mode: { type: "flexible" },
    });
    await use(12_000, "2026-11-05T00:00:00Z");
    at("2026-12-01T02:00:00Z");
    const [nov] = await cycleInvoices(sub.id);
    expect(nov?.status).toBe("open");
    const lineId = nov?.lines.data[0]?.id as string;
    const note = await stripe.creditNotes.create({
      invoice: nov?.id as string,
      lines: [{ type: "invoice_line_item", invoice_line_item: lineId, quantity: 10_000 }],
      memo: "shrink of trace t-1",
      metadata: { sparks_trace_ids: "t-1" },
    });
    expect(note).toMatchObject({ amount: 1000, type: "pre_payment", metadata: { sparks_trace_ids: "t-1" } });
    let after = await stripe.invoices.retrieve(nov?.id as string);
    expect(after).toMatchObject({ total: 1200, amount_due: 200, pre_payment_credit_notes_amount: 1000 });
    const over = await stripe.creditNotes
      .create({ invoice: nov?.id as string, amount: 201 })
      .then(unexpected, asStripeError);
    expect(over.param).toBe("amount");
    await stripe.invoices.pay(nov?.id as string);
    const post = await stripe.creditNotes.create({ invoice: nov?.id as string, amount: 150 });
    expect(post.type).toBe("post_payment");
    expect((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).toMatchObject({
      balance: -150,
    });
    after = await stripe.invoices.retrieve(nov?.id as string);
    expect(after.post_payment_credit_notes_amount).toBe(150);
    expect((await stripe.creditNotes.list({ invoice: nov?.id as string })).data).toHaveLength(2);
    await use(1000, "2026-12-05T00:00:00Z");
    at("2027-01-01T02:00:00Z");
    const dec = (await cycleInvoices(sub.id)).find((i) => i.id !== nov?.id);
    expect(dec).toMatchObject({ total: 100, amount_due: 0, starting_balance: -150, ending_balance: -50 });
  });

  it("cancels a meter event within 24 h of receipt (the draft drops it) and refuses after", async () => {
    const { stripe, customer, price, at, use, cycleInvoices } = await start("2026-11-30T12:00:00Z");
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      billing_cycle_anchor_config: ANCHOR_1ST,
      billing_mode: { type: "flexible" },
    });
    await use(12_000, "2026-11-30T12:00:00Z", "t-1:ai_tokens");
    await use(2_000, "2026-11-30T12:00:00Z", "t-2:ai_tokens");
    at("2026-12-01T00:05:00Z");
    const [draft] = await cycleInvoices(sub.id);
    expect(draft?.total).toBe(1400);
    await stripe.invoices.update(draft?.id as string, { auto_advance: false });
    await stripe.billing.meterEventAdjustments.create({
      event_name: "sparks_ai_tokens",
      type: "cancel",
      cancel: { identifier: "t-1:ai_tokens" },
    });
    expect((await stripe.invoices.retrieve(draft?.id as string)).total).toBe(200);
    at("2026-12-01T12:00:01Z");
    const err = await stripe.billing.meterEventAdjustments
      .create({ event_name: "sparks_ai_tokens", type: "cancel", cancel: { identifier: "t-2:ai_tokens" } })
      .then(unexpected, asStripeError);
    expect(err.statusCode).toBe(400);
    expect(err.param).toBe("cancel[identifier]");
    expect((await stripe.invoices.retrieve(draft?.id as string)).total).toBe(200);
  });

  it("moves the clock over HTTP and realigns an anchor with billing_cycle_anchor=now", async () => {
    const { stripe, customer, price, use, cycleInvoices, emu: e } = await start("2026-10-15T10:00:00Z");
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    await use(500, "2026-10-20T00:00:00Z");
    const res = await fetch(`${e.url}/_emulator/clock`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${e.secretKey}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: `to=${sec("2026-11-01T00:00:00Z")}`,
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { now: number }).now).toBe(sec("2026-11-01T00:00:00Z"));
    const realigned = await stripe.subscriptions.update(sub.id, {
      billing_cycle_anchor: { type: "now" },
      proration_behavior: "create_prorations",
    });
    expect(realigned.billing_cycle_anchor).toBe(sec("2026-11-01T00:00:00Z"));
    expect(realigned.items.data[0]?.current_period_end).toBe(sec("2026-12-01T00:00:00Z"));
    const [cut] = await cycleInvoices(sub.id);
    expect(cut).toMatchObject({
      billing_reason: "subscription_update",
      period_start: sec("2026-10-15T10:00:00Z"),
      period_end: sec("2026-11-01T00:00:00Z"),
      total: 50,
    });
  });
});
