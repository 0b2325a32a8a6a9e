import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { createStripeEmulator, type StripeEmulator } from "../src/stripe/index";
import { sdkFor, setupMeteredCatalog } from "./stripe-helpers";

interface Received {
  body: string;
  signature: string;
}

let emu: StripeEmulator | undefined;
let server: Server | undefined;

afterEach(async () => {
  await emu?.close();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  emu = undefined;
  server = undefined;
});

/** A real HTTP endpoint that keeps the raw bodies, as a webhook route must. */
async function receiver(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        body: Buffer.concat(chunks).toString("utf8"),
        signature: String(req.headers["stripe-signature"]),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/stripe/webhook`, received };
}

describe("Stripe emulator: webhooks", () => {
  it("signs events so stripe.webhooks.constructEvent accepts them and rejects a tampered body", async () => {
    const { url, received } = await receiver();
    emu = await createStripeEmulator();
    const delivery = await emu.sendWebhook(
      { type: "invoice.paid", data: { object: { id: "in_123", object: "invoice" } } },
      url,
    );
    expect(delivery.status).toBe(200);
    const got = received[0] as Received;
    const stripe = sdkFor(emu);
    const verified = stripe.webhooks.constructEvent(got.body, got.signature, emu.webhookSecret);
    expect(verified.type).toBe("invoice.paid");
    expect(verified.id).toMatch(/^evt_/);
    const tampered = got.body.replace("in_123", "in_999");
    expect(() => stripe.webhooks.constructEvent(tampered, got.signature, emu?.webhookSecret ?? "")).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    expect(() => stripe.webhooks.constructEvent(got.body, got.signature, "whsec_other")).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
  });

  it("announces subscription and invoice changes, and bills usage per price across a flexible swap", async () => {
    const { url, received } = await receiver();
    const clock = { ms: Date.UTC(2026, 10, 1, 0, 0, 0) };
    emu = await createStripeEmulator({ webhookUrl: url, now: () => clock.ms, rateLimitPerSecond: 0 });
    const stripe = sdkFor(emu);
    const { customer, price, product, meter } = await setupMeteredCatalog(stripe);
    const cheaper = await stripe.prices.create({
      currency: "usd",
      product: product.id,
      unit_amount_decimal: Stripe.Decimal.from("0.08"),
      recurring: { interval: "month", usage_type: "metered", meter: meter.id },
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      billing_mode: { type: "flexible" },
    });
    const t0 = Math.floor(clock.ms / 1000);
    clock.ms += 3_600_000;
    await stripe.billing.meterEvents.create({
      event_name: "sparks_ai_tokens",
      payload: { stripe_customer_id: customer.id, value: "1000" },
      identifier: "before-swap",
    });
    clock.ms += 3_600_000;
    await stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]?.id, price: cheaper.id }],
      proration_behavior: "none",
    });
    clock.ms += 3_600_000;
    await stripe.billing.meterEvents.create({
      event_name: "sparks_ai_tokens",
      payload: { stripe_customer_id: customer.id, value: "1000" },
      identifier: "after-swap",
    });

    const draft = emu.store.createDraftInvoiceForSubscription(sub.id, t0 + 4 * 3600);
    expect(draft.status).toBe("draft");
    // 1,000 at $0.001 (0.1¢) before the swap, 1,000 at 0.08¢ after: both periods billed.
    expect(draft.lines.data.map((l) => l.amount)).toEqual([100, 80]);
    emu.store.failPayment(draft.id);
    emu.store.payInvoice(draft.id);
    await stripe.subscriptions.cancel(sub.id);
    await emu.flushWebhooks();

    const types = received.map((r) => (JSON.parse(r.body) as { type: string }).type);
    for (const t of [
      "customer.subscription.created",
      "customer.subscription.updated",
      "invoice.created",
      "invoice.payment_failed",
      "invoice.paid",
      "customer.subscription.deleted",
    ]) {
      expect(types).toContain(t);
    }
    // The subscription's first (empty) invoice is paid at once; the cycle invoice after the failure.
    expect(types.indexOf("invoice.payment_failed")).toBeLessThan(types.lastIndexOf("invoice.paid"));
    for (const r of received) {
      expect(stripe.webhooks.constructEvent(r.body, r.signature, emu.webhookSecret).object).toBe("event");
    }
    const created = received.find(
      (r) => r.body.includes('"invoice.created"') && r.body.includes('"subscription_cycle"'),
    ) as Received;
    const createdEvent = JSON.parse(created.body) as { data: { object: { status: string; id: string } } };
    expect(createdEvent.data.object).toMatchObject({ id: draft.id, status: "draft" });
  });

  it("loses pre-swap usage under classic billing, as Stripe does", async () => {
    const clock = { ms: Date.UTC(2026, 10, 1, 0, 0, 0) };
    emu = await createStripeEmulator({ now: () => clock.ms, rateLimitPerSecond: 0 });
    const stripe = sdkFor(emu);
    const { customer, price, product, meter } = await setupMeteredCatalog(stripe);
    const other = await stripe.prices.create({
      currency: "usd",
      product: product.id,
      unit_amount: 1,
      recurring: { interval: "month", usage_type: "metered", meter: meter.id },
    });
    const sub = await stripe.subscriptions.create({ customer: customer.id, items: [{ price: price.id }] });
    expect(sub.billing_mode.type).toBe("classic");
    clock.ms += 3_600_000;
    await stripe.billing.meterEvents.create({
      event_name: "sparks_ai_tokens",
      payload: { stripe_customer_id: customer.id, value: "1000" },
    });
    clock.ms += 3_600_000;
    await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]?.id, price: other.id }] });
    const draft = emu.store.createDraftInvoiceForSubscription(sub.id);
    expect(draft.lines.data.map((l) => l.amount)).toEqual([0]);
  });
});
