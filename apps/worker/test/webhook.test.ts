import {
  CustomerMonthCloseRepository,
  CustomerRepository,
  executeRows,
  WebhookEventRepository,
} from "@sparks/db";
import { DISCOUNT_METADATA_KEY, HOLD_METADATA_KEY, InvoiceService } from "@sparks/stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HandleStripeEventUseCase } from "../src/use-cases/handle-stripe-event.use-case";
import { releaseMonthInvoice } from "../src/use-cases/release-month-invoice.use-case";
import { createWebhookHarness, PREFIX, type WebhookHarness } from "./webhook.harness";

const NOV_1 = Date.parse("2026-11-01T00:00:00Z");
const DEC_1_SEC = Date.parse("2026-12-01T00:00:00Z") / 1000;
const NOV_10 = new Date("2026-11-10T12:00:00Z");
let h: WebhookHarness;

beforeAll(async () => {
  h = await createWebhookHarness(NOV_1);
  h.startWorkers();
});
afterAll(async () => {
  await h?.close();
});

async function customerRow(id: string) {
  const row = await new CustomerRepository(h.db.database.db).findById(id);
  if (!row) throw new Error("customer vanished");
  return row;
}

async function tierHistory(customerId: string) {
  return executeRows<{ tier: string; source: string; effective_to: unknown }>(
    h.db.database.db,
    `select tier, source, effective_to from tier_history where customer_id = '${customerId}' order by id`,
  );
}

async function processLatest(type: string) {
  const event = h.latestEvent(type);
  await h.deliver(event);
  return h.waitForEvent(event.id);
}

describe("subscription events", () => {
  it("delivered in reverse order still leave the tier Stripe has now", async () => {
    const { customer, subscription } = await h.addCustomer("free");
    h.clock.ms = NOV_1 + 86_400_000;
    await h.changeTier(subscription.id, "standard");
    const toStandard = h.latestEvent("customer.subscription.updated");
    await h.changeTier(subscription.id, "enterprise");
    const toEnterprise = h.latestEvent("customer.subscription.updated");
    expect(toStandard.id).not.toBe(toEnterprise.id);

    await h.deliver(toEnterprise);
    expect((await h.waitForEvent(toEnterprise.id)).status).toBe("processed");
    expect((await customerRow(customer.id)).tier).toBe("enterprise");
    await h.deliver(toStandard);
    expect((await h.waitForEvent(toStandard.id)).status).toBe("processed");
    // The older event re-read the subscription, found enterprise prices and changed nothing.
    expect((await customerRow(customer.id)).tier).toBe("enterprise");
    const history = await tierHistory(customer.id);
    expect(history.map((r) => [r.tier, r.source])).toEqual([
      ["free", "signup"],
      ["enterprise", "webhook"],
    ]);
    expect(history[0]?.effective_to).not.toBeNull();
  });

  it("customer.subscription.deleted puts the customer on free", async () => {
    const { customer, subscription } = await h.addCustomer("standard");
    await h.stripe.subscriptions.cancel(subscription.id);
    const row = await processLatest("customer.subscription.deleted");
    expect(row.status).toBe("processed");
    expect((await customerRow(customer.id)).tier).toBe("free");
  });

  it("ignores events of a subscription that is not the customer's current one", async () => {
    const { customer } = await h.addCustomer("standard");
    const other = await h.stripe.subscriptions.create({
      customer: customer.stripeCustomerId ?? "",
      items: [
        {
          price:
            (await h.stripe.prices.list({ lookup_keys: [`${PREFIX}_compute_enterprise`] })).data[0]?.id ?? "",
        },
      ],
    });
    await h.stripe.subscriptions.update(other.id, { metadata: { x: "1" } });
    const row = await processLatest("customer.subscription.updated");
    expect(row.error).toMatch(/not the current subscription/);
    expect((await customerRow(customer.id)).tier).toBe("standard");
  });
});

describe("payment events", () => {
  it("invoice.payment_failed pauses and alerts; invoice.paid resumes", async () => {
    const { customer, subscription } = await h.addCustomer("standard");
    const invoice = h.emu.store.createDraftInvoiceForSubscription(subscription.id, DEC_1_SEC);
    h.emu.store.failPayment(invoice.id);
    const failed = await processLatest("invoice.payment_failed");
    expect(failed.status).toBe("processed");
    const paused = await customerRow(customer.id);
    expect(paused).toMatchObject({ status: "paused", pauseReason: "payment_failed" });
    const alert = await h.deps.queues.queue("alerts").getJob(`alert-payment_failed-${invoice.id}`);
    expect(alert?.data).toMatchObject({ kind: "payment_failed", customerId: customer.id });

    h.emu.store.payInvoice(invoice.id);
    expect((await processLatest("invoice.paid")).status).toBe("processed");
    expect(await customerRow(customer.id)).toMatchObject({ status: "active", pauseReason: null });

    // The failure delivered late (after the payment) re-reads Stripe and does not pause again.
    const late = h.emu.store.events.find(
      (e) => e.type === "invoice.payment_failed" && (e.data.object as { id: string }).id === invoice.id,
    );
    if (!late) throw new Error("no failure event");
    await h.deliver({ ...late, id: `${late.id}_redelivered` });
    await h.waitForEvent(`${late.id}_redelivered`);
    expect((await customerRow(customer.id)).status).toBe("active");
  });
});

describe("invoice.created: hold until the month close, then discount, check, release", () => {
  async function draftFor(subscriptionId: string) {
    h.clock.ms = Date.parse("2026-11-30T23:00:00Z");
    const invoice = h.emu.store.createDraftInvoiceForSubscription(subscriptionId, DEC_1_SEC);
    const event = h.latestEvent("invoice.created");
    expect((event.data as { object: { id: string } }).object.id).toBe(invoice.id);
    return { invoice, event };
  }

  async function setupMonth(sparks: number[]) {
    h.clock.ms = NOV_1;
    const fixture = await h.addCustomer("standard");
    h.clock.ms = NOV_10.getTime() + 3_600_000;
    for (const [i, s] of sparks.entries()) {
      await h.seedSent(
        fixture.customer,
        i % 2 === 0 ? "ai_tokens" : "compute",
        s,
        new Date(NOV_10.getTime() + i * 1000),
      );
    }
    return fixture;
  }

  /** What the month close does for one customer once the lag has passed and nothing is left to send. */
  async function closeAndRelease(customerId: string) {
    h.clock.ms = Date.parse("2026-12-01T00:16:00Z");
    const closed = await new CustomerMonthCloseRepository(h.db.database.db).closeFlushed(
      "2026-11",
      [customerId],
      new Date(h.clock.ms),
    );
    expect(closed.closed).toEqual([customerId]);
    return releaseMonthInvoice(h.deps, customerId, "2026-11");
  }

  it("10,001 Sparks: held at invoice.created, 5% off once at the month close, then finalized", async () => {
    const { customer, subscription } = await setupMonth([6_000, 4_001]);
    const { invoice, event } = await draftFor(subscription.id);
    expect(invoice.subtotal).toBe(1_000); // 10,001 Sparks × 0.1 ¢ = 1,000.1 ¢ → 1,000 ¢
    for (let i = 0; i < 3; i++) await h.deliver(event);
    const row = await h.waitForEvent(event.id);
    expect(row.status).toBe("processed");
    const held = await h.stripe.invoices.retrieve(invoice.id);
    expect(held.auto_advance).toBe(false);
    expect(held.metadata?.[HOLD_METADATA_KEY]).toBe("month_close:2026-11");
    expect(held.lines.data.filter((l) => l.amount < 0)).toHaveLength(0); // no discount before the close

    // Released twice (the hourly check after a crash): one discount line, one finalization.
    expect(await closeAndRelease(customer.id)).toMatchObject({ action: "released", totalCents: 950n });
    expect(await releaseMonthInvoice(h.deps, customer.id, "2026-11")).toMatchObject({
      action: "already_released",
    });
    const after = await h.stripe.invoices.retrieve(invoice.id);
    const discounts = after.lines.data.filter((l) => l.metadata?.[DISCOUNT_METADATA_KEY] === invoice.id);
    expect(discounts.map((l) => l.amount)).toEqual([-50]);
    expect(after.total).toBe(950);
    expect(after.status).toBe("open");
    // The same invoice announced again (a replay under a new event id) changes nothing.
    await h.deliver({ ...event, id: `${event.id}_replay` });
    const replay = await h.waitForEvent(`${event.id}_replay`);
    expect(replay.status).toBe("processed");
    expect(replay.error).toMatch(/is open, not a draft/);
    const again = await h.stripe.invoices.retrieve(invoice.id);
    expect(again.lines.data.filter((l) => l.amount < 0)).toHaveLength(1);
    expect(again.total).toBe(950);
    const stored = await new WebhookEventRepository(h.db.database.db).findById(event.id);
    expect(stored?.attempts).toBe(1);
  });

  it("exactly 10,000 Sparks: no discount", async () => {
    const { customer, subscription } = await setupMonth([7_000, 3_000]);
    const { invoice, event } = await draftFor(subscription.id);
    await h.deliver(event);
    expect((await h.waitForEvent(event.id)).status).toBe("processed");
    expect(await closeAndRelease(customer.id)).toMatchObject({ action: "released", totalCents: 1_000n });
    const after = await h.stripe.invoices.retrieve(invoice.id);
    expect(after.lines.data.filter((l) => l.amount < 0)).toHaveLength(0);
    expect(after.total).toBe(1_000);
    expect(after.status).toBe("open");
  });

  it("a ledger/Stripe mismatch keeps the hold and raises an alert naming the money at risk, with no discount", async () => {
    h.clock.ms = NOV_1;
    const { customer, subscription } = await h.addCustomer("standard");
    h.clock.ms = NOV_10.getTime() + 3_600_000;
    await h.seedSent(customer, "ai_tokens", 12_000, NOV_10, { toStripe: 11_000 });
    const { invoice, event } = await draftFor(subscription.id);
    await h.deliver(event);
    expect((await h.waitForEvent(event.id)).status).toBe("processed");
    const outcome = await closeAndRelease(customer.id);
    expect(outcome).toMatchObject({ action: "held", atRiskCents: 100n });
    expect(String((outcome as { reason: string }).reason)).toMatch(/ai_tokens ledger 12000, Stripe 11000/);
    const after = await h.stripe.invoices.retrieve(invoice.id);
    expect(after.status).toBe("draft");
    expect(after.auto_advance).toBe(false);
    expect(after.metadata?.[HOLD_METADATA_KEY]).toBe("mismatch:2026-11");
    expect(after.lines.data.filter((l) => l.amount < 0)).toHaveLength(0);
    const alert = await h.deps.queues.queue("alerts").getJob(`alert-invoice_hold-${invoice.id}`);
    expect(alert?.data).toMatchObject({ kind: "invoice_hold", customerId: customer.id });
    expect(alert?.data.title).toContain("1.00 USD at risk");
  });

  it("usage still pending at invoice.created: holds the draft for the month close and flushes it", async () => {
    h.clock.ms = NOV_1;
    const { customer, subscription } = await h.addCustomer("standard");
    h.clock.ms = NOV_10.getTime() + 3_600_000;
    await h.seedSent(customer, "compute", 300, NOV_10, { status: "pending" });
    const { invoice, event } = await draftFor(subscription.id);
    await new WebhookEventRepository(h.db.database.db).insertIfNew({
      stripeEventId: event.id,
      type: event.type,
      created: new Date(event.created * 1000),
      payload: event,
    });
    const useCase = new HandleStripeEventUseCase(h.deps, new InvoiceService(h.stripe, PREFIX));
    expect(await useCase.handle(event.id)).toMatchObject({ action: "held_for_month_close" });
    const held = await h.stripe.invoices.retrieve(invoice.id);
    expect(held.auto_advance).toBe(false);
    expect(held.metadata?.[HOLD_METADATA_KEY]).toBe("month_close:2026-11");
    const pushes = await h.deps.queues
      .queue("pushMeterEvents")
      .getJobs(["waiting", "delayed", "prioritized"]);
    expect(pushes.map((j) => j.data)).toContainEqual({
      customerId: customer.id,
      category: "compute",
      month: "2026-11",
    });
    // The month is not closed for this customer: a release is refused and changes nothing.
    expect(await releaseMonthInvoice(h.deps, customer.id, "2026-11")).toMatchObject({ action: "refused" });
    expect((await h.stripe.invoices.retrieve(invoice.id)).status).toBe("draft");
  });

  it("invoice.created of a Stripe customer Sparks does not know is ignored with a clear note", async () => {
    const stranger = await h.stripe.customers.create({ email: "stranger@example.test" });
    const price = (await h.stripe.prices.list({ lookup_keys: [`${PREFIX}_ai_tokens_standard`] })).data[0];
    const sub = await h.stripe.subscriptions.create({
      customer: stranger.id,
      billing_mode: { type: "flexible" },
      items: [{ price: price?.id ?? "" }],
    });
    const { invoice, event } = await draftFor(sub.id);
    await h.deliver(event);
    const row = await h.waitForEvent(event.id);
    expect(row.status).toBe("processed");
    expect(row.error).toBe(`no Sparks customer for ${stranger.id}`);
    const after = await h.stripe.invoices.retrieve(invoice.id);
    expect(after.auto_advance).toBe(true);
    expect(after.metadata?.[HOLD_METADATA_KEY]).toBeUndefined();
  });
});

describe("failures", () => {
  it("a Stripe 500 is retried by BullMQ and the event is processed on the next attempt", async () => {
    const { customer, subscription } = await h.addCustomer("free");
    await h.changeTier(subscription.id, "standard");
    h.emu.faults.inject({
      kind: "server_error",
      count: 1,
      method: "GET",
      path: `/v1/subscriptions/${subscription.id}`,
    });
    const row = await processLatest("customer.subscription.updated");
    expect(row.status).toBe("processed");
    expect(row.attempts).toBe(2);
    expect((await customerRow(customer.id)).tier).toBe("standard");
  });

  it("a permanently failing event is marked failed, lands in the failed set and alerts", async () => {
    const event = {
      id: "evt_broken_1",
      object: "event",
      type: "invoice.created",
      created: 1,
      data: { object: {} },
    };
    await h.deliver(event);
    const row = await h.waitForEvent(event.id);
    expect(row.status).toBe("failed");
    expect(row.error).toMatch(/data.object.id is missing/);
    const job = await h.deps.queues.queue("stripeWebhooks").getJob("stripe-event-evt_broken_1");
    await expect.poll(async () => job?.getState()).toBe("failed");
    const alert = await h.deps.queues.queue("alerts").getJob("alert-webhook_failure-evt_broken_1");
    expect(alert?.data).toMatchObject({ kind: "webhook_failure" });
  });
});
