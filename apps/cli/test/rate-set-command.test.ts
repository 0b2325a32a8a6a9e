import { TIER_NAMES } from "@sparks/core";
import { CustomerRepository } from "@sparks/db";
import { createStripeEmulator, type StripeEmulator } from "@sparks/emulators";
import { createStripeClient, StripeSubscriptionService, setupStripeCatalog } from "@sparks/stripe";
import { createTestDatabase, type TestDatabase } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runSparks } from "./cli-harness";

let emu: StripeEmulator;
let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let customerId: string;
let subscriptionId: string;

beforeAll(async () => {
  emu = await createStripeEmulator({ rateLimitPerSecond: 0 });
  db = await createTestDatabase();
  env = cleanEnv({ DATABASE_URL: db.url, STRIPE_SECRET_KEY: emu.secretKey, STRIPE_API_BASE: emu.url });
  const stripe = createStripeClient({
    secretKey: emu.secretKey,
    apiBase: { host: emu.host, port: emu.port, protocol: "http" },
  });
  await setupStripeCatalog(stripe, { prefix: "sparks", sparkRateUsd: "0.001", tiers: TIER_NAMES });
  const sc = await stripe.customers.create({ email: "ent@example.test" });
  const row = await new CustomerRepository(db.database.db).insert({
    auth0UserId: "auth0|cli-rate",
    stripeCustomerId: sc.id,
    tier: "enterprise",
  });
  const service = new StripeSubscriptionService(stripe, "sparks");
  const sub = await service.create({
    stripeCustomerId: sc.id,
    sparksCustomerId: row.id,
    prices: await service.tierPrices("enterprise"),
    idempotencyKey: "cli-rate-sub",
  });
  await db.database.db.execute(
    `update customers set stripe_subscription_id = '${sub.id}' where id = '${row.id}'`,
  );
  customerId = row.id;
  subscriptionId = sub.id;
});
afterAll(async () => {
  await emu?.close();
  await db?.drop();
});

describe("sparks rate:set", () => {
  it("refuses a bad rate in one line naming the option, and changes nothing", async () => {
    const r = await runSparks(["rate:set", "--customer", customerId, "--usd-per-spark", "cheap"], env);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^sparks: --usd-per-spark: must be a positive decimal/);
    expect((await new CustomerRepository(db.database.db).findById(customerId))?.negotiatedRate).toBeNull();
  });

  it("sets the rate: the customer's own prices on its subscription, the rate on the ledger", async () => {
    const r = await runSparks(
      ["rate:set", "--customer", "auth0|cli-rate", "--usd-per-spark", "0.0008", "--json"],
      env,
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      usd_per_spark: string;
      prices: Array<{ price: string; lookup_key: string }>;
    };
    expect(out.usd_per_spark).toBe("0.0008");
    expect(out.prices.every((p) => p.lookup_key.includes(`_cust_${customerId}_usd0p0008`))).toBe(true);
    const items = emu.store
      .subscription(subscriptionId)
      .items.data.map((i) => i.price.id)
      .sort();
    expect(items).toEqual(out.prices.map((p) => p.price).sort());
    expect((await new CustomerRepository(db.database.db).findById(customerId))?.negotiatedRate).toBe(
      "0.0008",
    );
  });
});
