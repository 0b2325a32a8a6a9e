import type { UsageCategory } from "@sparks/core";
import { CustomerRepository, MeterEventRepository, UsageItemRepository } from "@sparks/db";
import { meterEventName } from "@sparks/stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BillingHarness, createBillingHarness, signup, testClock } from "./billing.harness";

let h: BillingHarness;
let alice: Record<string, unknown>;
let bob: Record<string, unknown>;
let seq = 0;

const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);

beforeAll(async () => {
  h = await createBillingHarness({ clock: testClock("2026-03-01T00:00:00Z") });
  alice = (await signup(h, { user_id: "auth0|rate-alice" })).body;
  bob = (await signup(h, { user_id: "auth0|rate-bob" })).body;
  h.clock.set("2026-03-02T00:00:00Z");
  const res = await post("/subscriptions/update", await admin(), {
    subscription_tier: "enterprise",
    customer_id: alice.customer_id,
  });
  expect(res.status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

const admin = () => h.token("auth0|ops", true).then((t) => `Bearer ${t}`);

async function post(url: string, authorization: string, payload: Record<string, unknown>) {
  const res = await h.app.inject({ method: "POST", url, headers: { authorization }, payload });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

const setRate = async (customer: unknown, usd: unknown, authorization?: string) =>
  post(`/customers/${String(customer)}/rate`, authorization ?? (await admin()), { usd_per_spark: usd });

const priceCount = () => h.emulator?.store.prices.size ?? 0;

/**
 * Usage as the pipeline leaves it: a sent ledger item with its meter event, and the same
 * meter event in Stripe (what the push worker sends).
 */
async function used(category: UsageCategory, iso: string, sparks: number): Promise<void> {
  seq += 1;
  const traceId = `trace-rate-${seq}`;
  const customer = await new CustomerRepository(h.db.database.db).findById(String(alice.customer_id));
  if (!customer) throw new Error("no customer");
  const month = iso.slice(0, 7);
  const items = new UsageItemRepository(h.db.database.db);
  await items.insertMany([
    {
      traceId,
      usageCategory: category,
      quantityRevision: 0,
      status: "pending",
      customerId: customer.id,
      customerRef: customer.id,
      month,
      occurredAt: new Date(iso),
      quantity: String(sparks),
      unit: "sparks",
      rawValue: sparks,
      exactSparks: String(sparks),
      reason: null,
      costCenter: "default",
      tier: "enterprise",
      tierHint: null,
      syncRunId: null,
    },
  ]);
  const item = (await items.lockPendingOfGroup({ customerId: customer.id, category, month }, 100)).find(
    (i) => i.traceId === traceId,
  );
  if (!item) throw new Error("fixture item not found");
  const meter = new MeterEventRepository(h.db.database.db);
  const identifier = `${category}-${traceId}`;
  const [id] = await meter.insertMany([
    {
      identifier,
      customerId: customer.id,
      stripeCustomerId: String(alice.stripe_customer_id),
      usageCategory: category,
      eventName: meterEventName("sparks", category),
      month,
      value: sparks,
      eventTimestamp: new Date(iso),
      aggregated: false,
      itemCount: 1,
    },
  ]);
  if (id === undefined) throw new Error("meter event not inserted");
  await items.assign([{ itemId: item.id, meterEventId: id, sentSparks: sparks, identifier }]);
  await meter.markSent(id, {});
  await items.markSentByMeterEvent(id);
  h.clock.set(iso);
  await h.stripe?.billing.meterEvents.create({
    event_name: meterEventName("sparks", category),
    identifier,
    timestamp: at(iso),
    payload: { stripe_customer_id: String(alice.stripe_customer_id), value: String(sparks) },
  });
}

describe("POST /customers/:customer_id/rate", () => {
  it.each([
    ["abc", "usd_per_spark"],
    ["-0.001", "usd_per_spark"],
    ["0", "usd_per_spark"],
    ["1e-3", "usd_per_spark"],
    ["0.00000000001", "usd_per_spark"],
    [null, "usd_per_spark"],
  ])("answers 400 naming the field for %j and changes nothing", async (usd, field) => {
    const before = priceCount();
    const res = await setRate(alice.customer_id, usd);
    expect(res.status).toBe(400);
    expect(String(res.body.message)).toContain(field);
    expect(priceCount()).toBe(before);
    expect((await h.app.customers.findById(String(alice.customer_id)))?.negotiatedRate).toBeNull();
  });

  it("is admin only (403 for the customer itself), 404 for an unknown customer, 409 off enterprise", async () => {
    const own = await setRate(alice.customer_id, "0.0008", `Bearer ${await h.token("auth0|rate-alice")}`);
    expect(own.status).toBe(403);
    expect((await setRate("cus_sparks_nobody", "0.0008")).status).toBe(404);
    const before = priceCount();
    const free = await setRate(bob.customer_id, "0.0008");
    expect(free.status).toBe(409);
    expect(String(free.body.message)).toContain("enterprise");
    expect(priceCount()).toBe(before);
  });

  it("creates the customer's own prices once, swaps them in, and the finalized invoice equals the report", async () => {
    h.clock.set("2026-03-02T01:00:00Z");
    const res = await setRate("auth0|rate-alice", "0.0008");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      customer_id: alice.customer_id,
      usd_per_spark: "0.0008",
      previous_usd_per_spark: null,
      subscription_id: alice.subscription_id,
      warnings: [],
    });
    const prices = res.body.prices as Array<{ category: string; price: string; lookup_key: string }>;
    expect(prices.map((p) => p.lookup_key).sort()).toEqual(
      ["ai_tokens", "compute", "storage"].map((c) => `sparks_${c}_cust_${alice.customer_id}_usd0p0008`),
    );
    for (const p of prices) {
      const stored = h.emulator?.store.prices.get(p.price);
      expect(stored?.unit_amount_decimal).toBe("0.08");
      expect(stored?.metadata).toMatchObject({
        sparks_customer_id: alice.customer_id,
        sparks_rate_usd: "0.0008",
      });
    }
    const sub = await h.stripe?.subscriptions.retrieve(String(alice.subscription_id));
    expect(sub?.items.data.map((i) => i.price.id).sort()).toEqual(prices.map((p) => p.price).sort());

    // Idempotent: the same rate again finds the same prices and creates none.
    const count = priceCount();
    const again = await setRate(alice.customer_id, 0.0008);
    expect(again.status).toBe(200);
    expect((again.body.prices as Array<{ price: string }>).map((p) => p.price).sort()).toEqual(
      prices.map((p) => p.price).sort(),
    );
    expect(priceCount()).toBe(count);

    await used("ai_tokens", "2026-03-10T10:00:00Z", 7001);
    await used("compute", "2026-03-12T10:00:00Z", 1250);
    // April 1 00:00 UTC cuts March's invoice; an hour later Stripe finalizes it.
    h.clock.set("2026-04-01T01:00:01Z");
    const invoices = await h.stripe?.invoices.list({
      subscription: String(alice.subscription_id),
      status: "open",
    });
    const march = invoices?.data.find((i) => i.period_end === at("2026-04-01T00:00:00Z"));
    expect(march?.status).toBe("open");
    // 7,001 × 0.08¢ = 560.08¢ → 560; 1,250 × 0.08¢ = 100¢.
    expect(march?.total).toBe(660);

    const report = await h.app.inject({
      method: "GET",
      url: `/usage/report?month=2026-03&customer_id=${String(alice.customer_id)}`,
      headers: { authorization: await admin() },
    });
    expect(report.statusCode).toBe(200);
    const usd = (report.json() as { usd: { net: string; display: { net: string }; exact: { net: string } } })
      .usd;
    expect(usd.display.net).toBe(((march?.total ?? 0) / 100).toFixed(2));
    expect(usd.net).toBe("6.60"); // what Stripe invoices (invoice-close: usd figures are the invoice's)
    // The independent calculation: 8,251 Sparks at $0.0008, kept exact beside it.
    expect(usd.exact.net).toMatch(/^6\.6008/);
  });

  it("a rate changed mid-month: each part billed at its rate, the invoice equals the report, past months keep theirs", async () => {
    await used("ai_tokens", "2026-04-03T10:00:00Z", 5000);
    h.clock.set("2026-04-05T00:00:00Z");
    const res = await setRate(alice.customer_id, "0.0007");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ previous_usd_per_spark: "0.0008", warnings: [] });
    await used("ai_tokens", "2026-04-10T10:00:00Z", 3000);
    h.clock.set("2026-05-01T01:00:01Z");
    const invoices = await h.stripe?.invoices.list({
      subscription: String(alice.subscription_id),
      status: "open",
    });
    const april = invoices?.data.find((i) => i.period_end === at("2026-05-01T00:00:00Z"));
    // Independently: 5,000 × 0.08¢ = 400¢ before the swap, 3,000 × 0.07¢ = 210¢ after it.
    expect(april?.total).toBe(610);
    const report = async (month: string) => {
      const r = await h.app.inject({
        method: "GET",
        url: `/usage/report?month=${month}&customer_id=${String(alice.customer_id)}`,
        headers: { authorization: await admin() },
      });
      expect(r.statusCode).toBe(200);
      return r.json() as { usd: { net: string; rate: string } };
    };
    expect((await report("2026-04")).usd).toMatchObject({ net: "6.10", rate: "0.0007" });
    // March was billed at 0.0008 and its report still says so after the change.
    expect((await report("2026-03")).usd).toMatchObject({ net: "6.60", rate: "0.0008" });
  });
});
