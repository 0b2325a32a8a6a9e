import { TierHistoryRepository } from "@sparks/db";
import { meterEventName } from "@sparks/stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BillingHarness, createBillingHarness, signup, testClock } from "./billing.harness";

let h: BillingHarness;
let a: Record<string, unknown>;
let b: Record<string, unknown>;

const at = (iso: string) => Math.floor(Date.parse(iso) / 1000);

beforeAll(async () => {
  // Before the real date, so the real-time tokens of the fake tenant are valid at every pin.
  h = await createBillingHarness({ clock: testClock("2026-03-01T00:00:00Z") });
  a = (await signup(h, { user_id: "auth0|alice" })).body;
  b = (await signup(h, { user_id: "auth0|bob" })).body;
});
afterAll(async () => {
  await h?.close();
});

async function update(token: string, body: Record<string, unknown>) {
  const res = await h.app.inject({
    method: "POST",
    url: "/subscriptions/update",
    headers: { authorization: `Bearer ${token}` },
    payload: body,
  });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

async function meterEvent(customer: unknown, value: number, iso: string, id: string) {
  await h.stripe?.billing.meterEvents.create({
    event_name: meterEventName("sparks", "ai_tokens"),
    identifier: id,
    timestamp: at(iso),
    payload: { stripe_customer_id: String(customer), value: String(value) },
  });
}

const history = (customerId: unknown) => new TierHistoryRepository(h.db.database.db).list(String(customerId));
const swaps = () =>
  h.emulator?.recording.filter({ method: "POST", path: /^\/v1\/subscriptions\/sub_/ }).length ?? 0;

describe("POST /subscriptions/update", () => {
  it("changes the tier on the 15th: two tier segments, new prices with proration, usage on both sides billed", async () => {
    h.clock.set("2026-03-05T10:00:00Z");
    await meterEvent(a.stripe_customer_id, 1_000, "2026-03-05T10:00:00Z", "before-change");

    h.clock.set("2026-03-15T12:00:00Z");
    const res = await update(await h.token("auth0|alice"), { subscription_tier: "standard" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      customer_id: a.customer_id,
      tier: "standard",
      previous_tier: "free",
      changed: true,
      effective_from: "2026-03-15T12:00:00.000Z",
      subscription_id: a.subscription_id,
      billing_mode: "flexible",
    });
    const items = res.body.items as Array<{ lookup_key: string }>;
    expect(items.map((i) => i.lookup_key).sort()).toEqual([
      "sparks_ai_tokens_standard",
      "sparks_compute_standard",
      "sparks_storage_standard",
    ]);

    const segments = await history(a.customer_id);
    expect(
      segments.map((s) => [s.tier, s.effectiveFrom.toISOString(), s.effectiveTo?.toISOString() ?? null]),
    ).toEqual([
      ["free", "2026-03-01T00:00:00.000Z", "2026-03-15T12:00:00.000Z"],
      ["standard", "2026-03-15T12:00:00.000Z", null],
    ]);
    expect((await h.app.customers.findById(String(a.customer_id)))?.tier).toBe("standard");

    // The emulator keeps every price an item had: three swaps, prorated, on a flexible subscription.
    const changes = (h.emulator?.store.subscriptionHistory(String(a.subscription_id)) ?? []).filter(
      (c) => c.fromPrice !== null,
    );
    expect(changes).toHaveLength(3);
    for (const c of changes) {
      expect(c).toMatchObject({
        prorationBehavior: "create_prorations",
        billingMode: "flexible",
        at: at("2026-03-15T12:00:00Z"),
      });
    }
    const update_ = h.emulator?.recording.filter({
      method: "POST",
      path: `/v1/subscriptions/${a.subscription_id}`,
    })[0];
    expect(update_?.params.proration_behavior).toBe("create_prorations");

    h.clock.set("2026-03-20T10:00:00Z");
    await meterEvent(a.stripe_customer_id, 500, "2026-03-20T10:00:00Z", "after-change");
    // The month's invoice bills both segments: the free price before the swap, standard after.
    const invoice = h.emulator?.store.createDraftInvoiceForSubscription(
      String(a.subscription_id),
      at("2026-04-01T00:00:00Z"),
    );
    const tokenLines = (invoice?.lines.data ?? [])
      .filter((l) => (l.quantity ?? 0) > 0)
      .map((l) => [l.pricing?.price_details?.price, l.quantity]);
    const priceOf = (key: string) =>
      [...(h.emulator?.store.prices.values() ?? [])].find((p) => p.lookup_key === key)?.id;
    expect(tokenLines).toEqual(
      expect.arrayContaining([
        [priceOf("sparks_ai_tokens_free"), 1_000],
        [priceOf("sparks_ai_tokens_standard"), 500],
      ]),
    );
    expect(tokenLines).toHaveLength(2);
  });

  it("answers 400 for an unknown tier and changes nothing", async () => {
    const before = { swaps: swaps(), segments: (await history(b.customer_id)).length };
    const res = await update(await h.token("auth0|bob"), { subscription_tier: "platinum" });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain("subscription_tier");
    expect(swaps()).toBe(before.swaps);
    expect((await history(b.customer_id)).length).toBe(before.segments);
    expect((await h.app.customers.findById(String(b.customer_id)))?.tier).toBe("free");
  });

  it("forbids a customer to change another customer's tier (403), whether named by Sparks or Auth0 id", async () => {
    const before = swaps();
    for (const customer_id of [String(b.customer_id), "auth0|bob"]) {
      const res = await update(await h.token("auth0|alice"), {
        subscription_tier: "enterprise",
        customer_id,
      });
      expect(res.status).toBe(403);
    }
    expect(swaps()).toBe(before);
    expect((await h.app.customers.findById(String(b.customer_id)))?.tier).toBe("free");
  });

  it("forbids a customer to set a custom quota", async () => {
    const res = await update(await h.token("auth0|bob"), {
      subscription_tier: "enterprise",
      custom_quota: 1,
    });
    expect(res.status).toBe(403);
  });

  it("lets an admin change any customer's tier and set an enterprise custom quota", async () => {
    h.clock.set("2026-03-21T00:00:00Z");
    const admin = await h.token("auth0|ops", true);
    const missing = await update(admin, { subscription_tier: "enterprise" });
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain("customer_id");

    const res = await update(admin, {
      subscription_tier: "enterprise",
      customer_id: "auth0|bob",
      custom_quota: 50_000,
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tier: "enterprise", previous_tier: "free", custom_quota: 50_000 });
    expect((await h.app.customers.findById(String(b.customer_id)))?.customQuota).toBe(50_000);

    const wrong = await update(admin, {
      subscription_tier: "standard",
      customer_id: "auth0|bob",
      custom_quota: 5,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toContain("custom_quota");
  });

  it("changes back down to free, and the same tier again is a no-op without a Stripe update", async () => {
    h.clock.set("2026-03-25T00:00:00Z");
    const token = await h.token("auth0|alice");
    const down = await update(token, { subscription_tier: "free" });
    expect(down.body).toMatchObject({ tier: "free", previous_tier: "standard", changed: true });
    expect((await history(a.customer_id)).map((s) => s.tier)).toEqual(["free", "standard", "free"]);

    const before = swaps();
    const same = await update(token, { subscription_tier: "free" });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ tier: "free", previous_tier: "free", changed: false });
    expect(swaps()).toBe(before);
    expect((await history(a.customer_id)).length).toBe(3);
  });

  it("answers 403 to a user who has not signed up, and 401 without a token", async () => {
    const res = await update(await h.token("auth0|stranger"), { subscription_tier: "standard" });
    expect(res.status).toBe(403);
    const anonymous = await h.app.inject({
      method: "POST",
      url: "/subscriptions/update",
      payload: { subscription_tier: "standard" },
    });
    expect(anonymous.statusCode).toBe(401);
  });
});
