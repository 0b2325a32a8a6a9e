import { TierHistoryRepository } from "@sparks/db";
import { createTestAuth0Management, type TestAuth0Management } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BillingHarness, createBillingHarness, signup } from "./billing.harness";

describe("POST /auth0/signup", () => {
  let h: BillingHarness;
  beforeAll(async () => {
    h = await createBillingHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const stripeCustomers = () => [...(h.emulator?.store.customers.values() ?? [])];
  const stripeSubscriptions = () => [...(h.emulator?.store.subscriptions.values() ?? [])];

  it.each([
    ["no Authorization header", undefined],
    ["a wrong secret", "Bearer not-the-action-secret-at-all"],
    ["a wrong secret of the same length", `Bearer ${"x".repeat(30)}`],
    ["the secret without Bearer", "action-secret-0123456789abcdef"],
  ])("answers 401 to %s and creates nothing", async (_name, authorization) => {
    const res = await h.app.inject({
      method: "POST",
      url: "/auth0/signup",
      headers: authorization === undefined ? {} : { authorization },
      payload: { user_id: "auth0|intruder" },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: "unauthorized" });
    expect(stripeCustomers().filter((c) => c.metadata.auth0_user_id === "auth0|intruder")).toHaveLength(0);
    expect(await h.app.customers.findByAuth0UserId("auth0|intruder")).toBeNull();
  });

  it.each([
    [{}, "user_id"],
    [{ user_id: "" }, "user_id"],
    [{ user_id: "auth0|x'y" }, "user_id"],
    [{ user_id: "auth0|ok", email: "not-an-email" }, "email"],
    [{ user_id: 42 }, "user_id"],
  ])("answers 400 naming the field for %j", async (body, field) => {
    const res = await signup(h, body);
    expect(res.status).toBe(400);
    expect(res.body.message).toContain(field);
  });

  it("links one Stripe customer and one flexible free-tier subscription under two concurrent calls", async () => {
    const body = { user_id: "auth0|concurrent", email: "c@example.com", name: "Con Current" };
    const [a, b] = await Promise.all([signup(h, body), signup(h, body)]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(a.body).toMatchObject({
      auth0_user_id: "auth0|concurrent",
      tier: "free",
      auth0_metadata: "skipped",
    });

    const mine = stripeCustomers().filter((c) => c.metadata.auth0_user_id === "auth0|concurrent");
    expect(mine).toHaveLength(1);
    expect(mine[0]?.id).toBe(a.body.stripe_customer_id);
    expect(mine[0]?.metadata.sparks_customer_id).toBe(a.body.customer_id);
    expect(mine[0]?.email).toBe("c@example.com");
    const subs = stripeSubscriptions().filter((s) => s.customer === a.body.stripe_customer_id);
    expect(subs).toHaveLength(1);
    const sub = subs[0];
    expect(sub?.id).toBe(a.body.subscription_id);
    expect(sub?.billing_mode.type).toBe("flexible");
    // Anchored to the next 1st at 00:00:00 UTC: Stripe's invoice periods are calendar months,
    // the signup's partial month is a short (prorated) first period.
    const created = new Date((sub?.created ?? 0) * 1000);
    const nextFirst = Date.UTC(created.getUTCFullYear(), created.getUTCMonth() + 1, 1) / 1000;
    expect(sub?.billing_cycle_anchor_config).toEqual({
      day_of_month: 1,
      hour: 0,
      minute: 0,
      second: 0,
      month: null,
    });
    expect(sub?.billing_cycle_anchor).toBe(nextFirst);
    expect(sub?.items.data[0]?.current_period_end).toBe(nextFirst);
    expect(sub?.items.data.map((it) => it.price.lookup_key).sort()).toEqual([
      "sparks_ai_tokens_free",
      "sparks_compute_free",
      "sparks_storage_free",
    ]);

    const row = await h.app.customers.findByAuth0UserId("auth0|concurrent");
    expect(row).toMatchObject({
      id: a.body.customer_id,
      stripeCustomerId: a.body.stripe_customer_id,
      stripeSubscriptionId: a.body.subscription_id,
      tier: "free",
      email: "c@example.com",
    });
    const history = await new TierHistoryRepository(h.db.database.db).list(String(a.body.customer_id));
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ tier: "free", source: "signup", effectiveTo: null });
  });

  it("answers a replay with the same ids and calls no Stripe create again", async () => {
    const first = await signup(h, { user_id: "auth0|replay" });
    const creates = () =>
      h.emulator?.recording.filter({ method: "POST", path: /^\/v1\/(customers|subscriptions)$/ }).length ?? 0;
    const before = creates();
    const again = await signup(h, { user_id: "auth0|replay" });
    expect(again).toEqual(first);
    expect(creates()).toBe(before);
  });

  it("reuses the Stripe customer an earlier, crashed attempt created (found by metadata)", async () => {
    const orphan = await h.stripe?.customers.create({ metadata: { auth0_user_id: "auth0|crashed" } });
    const res = await signup(h, { user_id: "auth0|crashed" });
    expect(res.status).toBe(200);
    expect(res.body.stripe_customer_id).toBe(orphan?.id);
    expect(stripeCustomers().filter((c) => c.metadata.auth0_user_id === "auth0|crashed")).toHaveLength(1);
  });

  it("reuses the subscription of a customer whose row was stored before the crash", async () => {
    const customer = await h.stripe?.customers.create({ metadata: { auth0_user_id: "auth0|halfway" } });
    const prices = await h.stripe?.prices.list({
      lookup_keys: ["sparks_ai_tokens_free", "sparks_compute_free", "sparks_storage_free"],
    });
    const existing = await h.stripe?.subscriptions.create({
      customer: customer?.id ?? "",
      items: (prices?.data ?? []).map((p) => ({ price: p.id })),
      billing_mode: { type: "flexible" },
    });
    const res = await signup(h, { user_id: "auth0|halfway" });
    expect(res.body.subscription_id).toBe(existing?.id);
    expect(stripeSubscriptions().filter((s) => s.customer === customer?.id)).toHaveLength(1);
  });
});

describe("POST /auth0/signup without the Stripe catalog", () => {
  let h: BillingHarness;
  beforeAll(async () => {
    h = await createBillingHarness({ catalog: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("answers 503 telling the operator to run sparks stripe:setup, and creates no Stripe customer", async () => {
    const res = await signup(h, { user_id: "auth0|early" });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: "stripe_catalog_missing" });
    expect(res.body.message).toContain("sparks stripe:setup");
    expect(h.emulator?.store.customers.size).toBe(0);
  });
});

describe("POST /auth0/signup writing app_metadata through the Auth0 Management API", () => {
  let h: BillingHarness;
  let mgmt: TestAuth0Management;
  beforeAll(async () => {
    mgmt = await createTestAuth0Management();
    // No AUTH0_DOMAIN: the Management API is then reached at AUTH0_ISSUER's origin (the fake).
    h = await createBillingHarness({
      auth0Env: { AUTH0_ISSUER: `${mgmt.url}/`, AUTH0_AUDIENCE: "https://sparks.test/api" },
      env: { AUTH0_CLIENT_ID: mgmt.clientId, AUTH0_CLIENT_SECRET: mgmt.clientSecret },
    });
  });
  afterAll(async () => {
    await h?.close();
    await mgmt?.close();
  });

  it("writes stripe_customer_id into the user's app_metadata with a client-credentials token", async () => {
    const res = await signup(h, { user_id: "auth0|meta" });
    expect(res.status).toBe(200);
    expect(res.body.auth0_metadata).toBe("written");
    expect(mgmt.appMetadata("auth0|meta")).toEqual({
      stripe_customer_id: res.body.stripe_customer_id,
      sparks_customer_id: res.body.customer_id,
    });
    const patch = mgmt.requests.find((r) => r.method === "PATCH");
    expect(patch?.path).toBe(`/api/v2/users/${encodeURIComponent("auth0|meta")}`);
    expect(patch?.authorization).toMatch(/^Bearer mgmt_/);
  });

  it("reuses the cached token for the next user", async () => {
    await signup(h, { user_id: "auth0|meta2" });
    expect(mgmt.appMetadata("auth0|meta2")).toHaveProperty("stripe_customer_id");
    expect(mgmt.tokensIssued()).toBe(1);
  });

  it("still links the customer when Auth0 fails, and a repeated call writes the metadata", async () => {
    mgmt.failUserUpdates(1);
    const first = await signup(h, { user_id: "auth0|flaky" });
    expect(first.status).toBe(200);
    expect(first.body.auth0_metadata).toBe("failed");
    expect(mgmt.appMetadata("auth0|flaky")).toBeUndefined();
    const again = await signup(h, { user_id: "auth0|flaky" });
    expect(again.body.auth0_metadata).toBe("written");
    expect(again.body.stripe_customer_id).toBe(first.body.stripe_customer_id);
    expect(mgmt.appMetadata("auth0|flaky")).toMatchObject({
      stripe_customer_id: first.body.stripe_customer_id,
    });
  });
});
