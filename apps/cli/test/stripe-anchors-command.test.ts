import { TIER_NAMES } from "@sparks/core";
import { createStripeEmulator, type StripeEmulator } from "@sparks/emulators";
import { createStripeClient, StripeSubscriptionService, setupStripeCatalog } from "@sparks/stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runSparks } from "./cli-harness";

let emu: StripeEmulator;
let stripe: ReturnType<typeof createStripeClient>;
let env: NodeJS.ProcessEnv;
let anchored: string;
let legacy: string;

beforeAll(async () => {
  emu = await createStripeEmulator({ rateLimitPerSecond: 0 });
  env = cleanEnv({ STRIPE_SECRET_KEY: emu.secretKey, STRIPE_API_BASE: emu.url });
  stripe = createStripeClient({
    secretKey: emu.secretKey,
    apiBase: { host: emu.host, port: emu.port, protocol: "http" },
  });
  await setupStripeCatalog(stripe, {
    prefix: "sparks",
    sparkRateUsd: "0.001",
    tiers: TIER_NAMES,
    tierPriced: { free: false, standard: true, enterprise: true },
  });
  const service = new StripeSubscriptionService(stripe, "sparks");
  const prices = await service.tierPrices("standard");
  const a = await stripe.customers.create({ metadata: { sparks_customer_id: "cust-anchored" } });
  const b = await stripe.customers.create({ metadata: { sparks_customer_id: "cust-legacy" } });
  anchored = (
    await service.create({
      stripeCustomerId: a.id,
      sparksCustomerId: "cust-anchored",
      prices,
      idempotencyKey: "k-a",
    })
  ).id;
  // What Sparks created before: no anchor, so Stripe anchored it at signup time.
  legacy = (
    await stripe.subscriptions.create({
      customer: b.id,
      items: prices.prices.map((p) => ({ price: p.priceId })),
      billing_mode: { type: "flexible" },
      metadata: { sparks_customer_id: "cust-legacy" },
    })
  ).id;
});
afterAll(async () => emu.close());

describe("sparks stripe:anchors", () => {
  it("lists the subscription not anchored to the 1st and exits 1; stripe:setup says so too", async () => {
    const r = await runSparks(["stripe:anchors"], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("2 subscription(s) billing; 1 not anchored to the 1st 00:00:00 UTC");
    expect(r.stdout).toContain(legacy);
    expect(r.stdout).toContain("cust-legacy");
    expect(r.stdout).not.toContain(anchored);
    expect(r.stderr.trim()).toBe("sparks: 1 subscription(s) not anchored to the 1st 00:00:00 UTC");
    const json = await runSparks(["stripe:anchors", "--json"], env);
    const parsed = JSON.parse(json.stdout) as { misaligned: Array<{ id: string }>; subscriptions: unknown[] };
    expect(parsed.misaligned.map((m) => m.id)).toEqual([legacy]);
    expect(parsed.subscriptions).toHaveLength(2);
    const setup = await runSparks(["stripe:setup"], env);
    expect(setup.code).toBe(0);
    expect(setup.stdout).toContain("anchors: 1 of 2 subscription(s) NOT anchored");
  });

  it("--fix refuses outside the first minutes of a month; --force anchors now and invoices the cut period", async () => {
    const now = new Date();
    const inWindow = now.getTime() - Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) < 540_000;
    if (!inWindow) {
      const refused = await runSparks(["stripe:anchors", "--fix"], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("run it at 00:00 UTC on the 1st");
      expect((await stripe.subscriptions.retrieve(legacy)).billing_cycle_anchor).toBe(
        emu.store.subscription(legacy).created,
      );
    }
    const before = Math.floor(Date.now() / 1000);
    const r = await runSparks(["stripe:anchors", "--fix", "--force"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`→ ${legacy} re-anchored at`);
    const sub = await stripe.subscriptions.retrieve(legacy);
    expect(sub.billing_cycle_anchor).toBeGreaterThanOrEqual(before);
    const cut = (await stripe.invoices.list({ subscription: legacy })).data.filter(
      (i) => i.billing_reason === "subscription_update",
    );
    expect(cut).toHaveLength(1);
    expect(cut[0]?.period_end).toBe(sub.billing_cycle_anchor);
    // The anchored one was left alone.
    expect((await stripe.subscriptions.retrieve(anchored)).billing_cycle_anchor_config?.day_of_month).toBe(1);
  });
});
