import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStripeEmulator, type StripeEmulator } from "../src/stripe/index";
import { asStripeError, sdkFor, setupMeteredCatalog, unexpected } from "./stripe-helpers";

let emu: StripeEmulator;
let stripe: Stripe;

beforeAll(async () => {
  emu = await createStripeEmulator({ rateLimitPerSecond: 0 });
  stripe = sdkFor(emu);
});
afterAll(async () => {
  await emu.close();
});

describe("Stripe emulator: auth and errors", () => {
  it("refuses a wrong key with a Stripe-shaped 401", async () => {
    const bad = new Stripe("sk_test_wrong", {
      host: emu.host,
      port: emu.port,
      protocol: "http",
      maxNetworkRetries: 0,
    });
    const err = await bad.customers.list().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((err as Stripe.errors.StripeError).statusCode).toBe(401);
  });

  it("rejects unknown parameters naming them, nested ones included", async () => {
    const err = await stripe.customers
      .create({ emali: "x@y.z" } as unknown as Stripe.CustomerCreateParams)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    const e = err as Stripe.errors.StripeInvalidRequestError;
    expect(e.code).toBe("parameter_unknown");
    expect(e.param).toBe("emali");
    expect(e.message).toBe("Received unknown parameter: emali");

    const nested = await stripe.billing.meters
      .create({
        display_name: "x",
        event_name: "nested_unknown",
        default_aggregation: {
          formula: "sum",
          bogus: 1,
        } as unknown as Stripe.Billing.MeterCreateParams.DefaultAggregation,
      })
      .then(unexpected, asStripeError);
    expect(nested.param).toBe("default_aggregation[bogus]");
  });

  it("answers 404 for a missing object and an unknown URL", async () => {
    const err = (await stripe.customers
      .retrieve("cus_missing")
      .catch((e: unknown) => e)) as Stripe.errors.StripeError;
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe("resource_missing");
  });
});

describe("Stripe emulator: customers, products, meters, prices", () => {
  it("creates, updates, lists and searches customers by metadata", async () => {
    const a = await stripe.customers.create({
      email: "s1@example.com",
      metadata: { auth0: "auth0|1", tier: "free" },
    });
    const b = await stripe.customers.create({
      email: "s2@example.com",
      metadata: { auth0: "auth0|2", tier: "free" },
    });
    expect(a.id).toMatch(/^cus_/);
    const updated = await stripe.customers.update(a.id, { metadata: { tier: "standard" } });
    expect(updated.metadata).toEqual({ auth0: "auth0|1", tier: "standard" });
    const found = await stripe.customers.search({ query: "metadata['auth0']:'auth0|2'" });
    expect(found.data.map((c) => c.id)).toEqual([b.id]);
    const both = await stripe.customers.search({ query: "metadata['tier']:'free'" });
    expect(both.data.map((c) => c.id)).toEqual([b.id]);
    const again = await stripe.customers.retrieve(a.id);
    expect(again.deleted).toBeUndefined();
    expect((again as Stripe.Customer).metadata.tier).toBe("standard");
  });

  it("paginates lists so the SDK's auto-pagination sees every object once", async () => {
    const created: string[] = [];
    for (let i = 0; i < 25; i++) created.push((await stripe.products.create({ name: `p${i}` })).id);
    const page = await stripe.products.list({ limit: 10 });
    expect(page.object).toBe("list");
    expect(page.has_more).toBe(true);
    expect(page.url).toBe("/v1/products");
    const all: string[] = [];
    for await (const p of stripe.products.list({ limit: 7 })) all.push(p.id);
    expect(new Set(all).size).toBe(all.length);
    for (const id of created) expect(all).toContain(id);
    const invalid = await stripe.products.list({ limit: 101 }).then(unexpected, asStripeError);
    expect(invalid.param).toBe("limit");
  });

  it("creates metered prices on a meter with lookup keys, tiers and decimal amounts", async () => {
    const { meter, price, product } = await setupMeteredCatalog(stripe, "catalog_tokens");
    expect(meter.id).toMatch(/^mtr_/);
    expect(meter.status).toBe("active");
    expect(price.recurring?.usage_type).toBe("metered");
    expect(price.recurring?.meter).toBe(meter.id);
    expect(String(price.unit_amount_decimal)).toBe("0.1");

    const tiered = await stripe.prices.create({
      currency: "usd",
      product: product.id,
      billing_scheme: "tiered",
      tiers_mode: "graduated",
      tiers: [
        { up_to: 10000, unit_amount: 0 },
        { up_to: "inf", unit_amount_decimal: Stripe.Decimal.from("0.1") },
      ],
      recurring: { interval: "month", usage_type: "metered", meter: meter.id },
      lookup_key: "catalog_tokens_free",
    });
    expect(tiered.tiers_mode).toBe("graduated");

    const dup = await stripe.prices
      .create({ currency: "usd", product: product.id, unit_amount: 5, lookup_key: "catalog_tokens_free" })
      .then(unexpected, asStripeError);
    expect(dup.param).toBe("lookup_key");
    const moved = await stripe.prices.create({
      currency: "usd",
      product: product.id,
      unit_amount: 5,
      lookup_key: "catalog_tokens_free",
      transfer_lookup_key: true,
    });
    const byKey = await stripe.prices.list({
      lookup_keys: ["catalog_tokens_free", "catalog_tokens_standard"],
    });
    expect(byKey.data.map((p) => p.id).sort()).toEqual([moved.id, price.id].sort());
    expect((await stripe.prices.retrieve(tiered.id)).lookup_key).toBeNull();
    expect((await stripe.prices.list({ product: product.id, active: true })).data).toHaveLength(3);

    const metered = await stripe.prices
      .create({
        currency: "usd",
        product: product.id,
        unit_amount: 1,
        recurring: { interval: "month", usage_type: "metered" },
      })
      .then(unexpected, asStripeError);
    expect(metered.param).toBe("recurring[meter]");
  });

  it("lets only the display name of a meter change", async () => {
    const m = await stripe.billing.meters.create({
      display_name: "Compute",
      event_name: "catalog_compute",
      default_aggregation: { formula: "sum" },
    });
    const renamed = await stripe.billing.meters.update(m.id, { display_name: "Compute ms" });
    expect(renamed.display_name).toBe("Compute ms");
    const err = await stripe.billing.meters
      .update(m.id, { event_name: "other" } as unknown as Stripe.Billing.MeterUpdateParams)
      .then(unexpected, asStripeError);
    expect(err.code).toBe("parameter_unknown");
    expect(err.param).toBe("event_name");
    const listed = await stripe.billing.meters.list({ limit: 100 });
    expect(listed.data.some((x) => x.id === m.id)).toBe(true);
  });
});

describe("Stripe emulator: subscriptions and invoices", () => {
  it("creates a flexible subscription and keeps a price swap as history", async () => {
    const { price, customer, product, meter } = await setupMeteredCatalog(stripe, "subs_tokens");
    const enterprise = await stripe.prices.create({
      currency: "usd",
      product: product.id,
      unit_amount_decimal: Stripe.Decimal.from("0.08"),
      recurring: { interval: "month", usage_type: "metered", meter: meter.id },
      lookup_key: "subs_tokens_enterprise",
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      billing_mode: { type: "flexible" },
      metadata: { tier: "standard" },
    });
    expect(sub.id).toMatch(/^sub_/);
    expect(sub.billing_mode.type).toBe("flexible");
    expect(sub.status).toBe("active");
    const item = sub.items.data[0];
    expect(item?.id).toMatch(/^si_/);

    const swapped = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item?.id, price: enterprise.id }],
      proration_behavior: "none",
      metadata: { tier: "enterprise" },
    });
    expect(swapped.items.data).toHaveLength(1);
    expect(swapped.items.data[0]?.id).toBe(item?.id);
    expect(swapped.items.data[0]?.price.id).toBe(enterprise.id);
    expect(swapped.metadata.tier).toBe("enterprise");
    const history = emu.store.subscriptionHistory(sub.id);
    expect(history.map((h) => [h.fromPrice, h.toPrice])).toEqual([
      [null, price.id],
      [price.id, enterprise.id],
    ]);
    expect(history[1]?.prorationBehavior).toBe("none");
    expect(history[1]?.billingMode).toBe("flexible");

    const bad = await stripe.subscriptions
      .update(sub.id, { proration_behavior: "sometimes" as "none" })
      .then(unexpected, asStripeError);
    expect(bad.param).toBe("proration_behavior");

    const listed = await stripe.subscriptions.list({ customer: customer.id });
    expect(listed.data.map((s) => s.id)).toEqual([sub.id]);
    const canceled = await stripe.subscriptions.cancel(sub.id);
    expect(canceled.status).toBe("canceled");
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(0);
  });

  it("holds a draft invoice, takes invoice items and a coupon, then finalizes and pays it", async () => {
    const customer = await stripe.customers.create({ email: "inv@example.com" });
    const coupon = await stripe.coupons.create({ percent_off: 5, duration: "once" });
    const draft = await stripe.invoices.create({ customer: customer.id, auto_advance: false });
    expect(draft.status).toBe("draft");
    expect(draft.auto_advance).toBe(false);
    await stripe.invoiceItems.create({
      customer: customer.id,
      invoice: draft.id,
      amount: 10_000,
      currency: "usd",
    });
    const credit = await stripe.invoiceItems.create({
      customer: customer.id,
      invoice: draft.id,
      amount: -1_000,
      currency: "usd",
      description: "volume discount",
    });
    expect(credit.amount).toBe(-1_000);
    const discounted = await stripe.invoices.update(draft.id, { discounts: [{ coupon: coupon.id }] });
    expect(discounted.subtotal).toBe(9_000);
    // Negative invoice items are not discountable by default, so 5% applies to the 10,000 only.
    expect(discounted.total).toBe(9_000 - 500);
    const open = await stripe.invoices.finalizeInvoice(draft.id);
    expect(open.status).toBe("open");
    const late = await stripe.invoiceItems
      .create({ customer: customer.id, invoice: draft.id, amount: 1, currency: "usd" })
      .then(unexpected, asStripeError);
    expect(late.statusCode).toBe(400);
    const paid = await stripe.invoices.pay(draft.id);
    expect(paid.status).toBe("paid");
    expect(paid.amount_paid).toBe(8_500);
    const list = await stripe.invoices.list({ customer: customer.id, status: "paid" });
    expect(list.data.map((i) => i.id)).toEqual([draft.id]);
  });
});

describe("Stripe emulator: idempotency", () => {
  it("replays the stored answer for the same key and body, and refuses a different body", async () => {
    const first = await stripe.customers.create({ email: "idem@example.com" }, { idempotencyKey: "idem-1" });
    const again = await stripe.customers.create({ email: "idem@example.com" }, { idempotencyKey: "idem-1" });
    expect(again.id).toBe(first.id);
    expect(again.lastResponse.headers["idempotent-replayed"]).toBe("true");
    const replays = emu.recording
      .filter({ path: "/v1/customers", method: "POST" })
      .filter((r) => r.idempotencyKey === "idem-1");
    expect(replays.map((r) => r.replayed)).toEqual([false, true]);
    const err = await stripe.customers
      .create({ email: "other@example.com" }, { idempotencyKey: "idem-1" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((err as Stripe.errors.StripeError).statusCode).toBe(400);
  });
});
