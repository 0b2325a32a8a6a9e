import { TIER_NAMES, USAGE_CATEGORIES } from "@sparks/core";
import type { StripeEmulator } from "@sparks/emulators";
import type Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  centsPerSpark,
  formatSetupReport,
  MeterEventSender,
  meterEventIdentifier,
  meterEventName,
  priceLookupKey,
  setupStripeCatalog,
} from "../src/index";
import { startStripe } from "./stripe-test.helpers";

let emulator: StripeEmulator;
let stripe: Stripe;

const OPTIONS = { prefix: "sparks", sparkRateUsd: "0.001", tiers: TIER_NAMES };

beforeEach(async () => {
  ({ emulator, stripe } = await startStripe());
});

afterEach(async () => {
  await emulator.close();
});

async function allMeters(): Promise<Stripe.Billing.Meter[]> {
  const out: Stripe.Billing.Meter[] = [];
  for await (const m of stripe.billing.meters.list({ limit: 100 })) out.push(m);
  return out;
}

describe("centsPerSpark", () => {
  it("turns USD per Spark into Stripe cents without floats", () => {
    expect(centsPerSpark("0.001")).toBe("0.1");
    expect(centsPerSpark("0.0015")).toBe("0.15");
    expect(centsPerSpark("2")).toBe("200");
    expect(() => centsPerSpark("-0.001")).toThrow(RangeError);
    expect(() => centsPerSpark("0.0000000000000001")).toThrow(/12 decimals/);
    expect(() => centsPerSpark("abc")).toThrow(RangeError);
  });
});

describe("setupStripeCatalog", () => {
  it("creates one product, one sum meter and a metered price per tier for every category", async () => {
    const result = await setupStripeCatalog(stripe, OPTIONS);
    expect(result.found).toEqual([]);
    expect(result.updated).toEqual([]);
    expect(result.warnings).toEqual([]);
    expect(result.created.filter((e) => e.kind === "product")).toHaveLength(3);
    expect(result.created.filter((e) => e.kind === "meter")).toHaveLength(3);
    expect(result.created.filter((e) => e.kind === "price")).toHaveLength(9);

    const meters = await allMeters();
    expect(meters.map((m) => m.event_name).sort()).toEqual([
      "sparks_ai_tokens",
      "sparks_compute",
      "sparks_storage",
    ]);
    for (const m of meters) {
      expect(m.default_aggregation.formula).toBe("sum");
      expect(m.customer_mapping).toEqual({ event_payload_key: "stripe_customer_id", type: "by_id" });
      expect(m.value_settings.event_payload_key).toBe("value");
    }

    for (const category of USAGE_CATEGORIES) {
      const meter = meters.find((m) => m.event_name === meterEventName("sparks", category));
      const keys = TIER_NAMES.map((t) => priceLookupKey("sparks", category, t));
      const prices = await stripe.prices.list({ lookup_keys: keys });
      expect(prices.data).toHaveLength(3);
      const product = await stripe.products.retrieve(prices.data[0]?.product as string);
      expect(product.metadata.sparks_category).toBe(category);
      for (const price of prices.data) {
        expect(price.product).toBe(product.id);
        expect(price.currency).toBe("usd");
        expect(price.recurring).toMatchObject({ usage_type: "metered", meter: meter?.id, interval: "month" });
        expect(String(price.unit_amount_decimal)).toBe(price.lookup_key?.endsWith("_free") ? "0" : "0.1");
      }
    }
    const report = formatSetupReport(result);
    expect(report).toContain("created  meter    ai_tokens");
    expect(report).toContain("lookup_key=sparks_storage_enterprise  0.1¢/Spark");
    expect(report.split("\n").at(-1)).toBe("15 created, 0 updated, 0 found, 0 warnings");
  });

  it("run twice: the second run finds everything and creates nothing", async () => {
    const first = await setupStripeCatalog(stripe, OPTIONS);
    emulator.recording.clear();
    const second = await setupStripeCatalog(stripe, OPTIONS);
    expect(second.created).toEqual([]);
    expect(second.updated).toEqual([]);
    expect(second.found.map((e) => e.id).sort()).toEqual(first.created.map((e) => e.id).sort());
    // Only reads: not a single write reached Stripe.
    expect(emulator.recording.filter({ method: "POST" })).toEqual([]);
    expect(formatSetupReport(second).split("\n").at(-1)).toBe("0 created, 0 updated, 15 found, 0 warnings");
  });

  it("produces meters the sender can bill right away", async () => {
    await setupStripeCatalog(stripe, OPTIONS);
    const customer = await stripe.customers.create({ email: "c@example.com" });
    const sender = new MeterEventSender(stripe);
    const result = await sender.send({
      eventName: meterEventName("sparks", "compute"),
      stripeCustomerId: customer.id,
      value: 42n,
      identifier: meterEventIdentifier({ traceId: "t-setup", category: "compute" }),
      timestamp: new Date(Math.floor(Date.now() / 1000 - 60) * 1000),
    });
    expect(result.outcome).toBe("sent");
    expect(emulator.recording.meterTotal(customer.id, "sparks_compute")).toBe(42);
  });

  it("moves a lookup key to a new price when the Spark rate changed, and reports it", async () => {
    const first = await setupStripeCatalog(stripe, OPTIONS);
    const changed = await setupStripeCatalog(stripe, { ...OPTIONS, sparkRateUsd: "0.002" });
    expect(changed.created).toEqual([]);
    // Free prices stay at 0; the six paid ones are replaced.
    expect(changed.updated).toHaveLength(6);
    expect(changed.updated[0]?.reason).toMatch(
      /replaces price_\w+ \(unit_amount_decimal 0\.1, expected 0\.2\)/,
    );
    const key = priceLookupKey("sparks", "ai_tokens", "standard");
    const now = await stripe.prices.list({ lookup_keys: [key] });
    expect(now.data).toHaveLength(1);
    expect(String(now.data[0]?.unit_amount_decimal)).toBe("0.2");
    const old = first.created.find((e) => e.kind === "price" && e.lookupKey === key);
    expect(now.data[0]?.id).not.toBe(old?.id);
    // And the rate is stable again afterwards.
    const again = await setupStripeCatalog(stripe, { ...OPTIONS, sparkRateUsd: "0.002" });
    expect(again.updated).toEqual([]);
    expect(again.created).toEqual([]);
  });

  it("reactivates an inactive meter instead of creating a second one", async () => {
    await setupStripeCatalog(stripe, OPTIONS);
    const meter = (await allMeters()).find((m) => m.event_name === "sparks_storage");
    await stripe.billing.meters.deactivate(meter?.id as string);
    const result = await setupStripeCatalog(stripe, OPTIONS);
    expect(result.created).toEqual([]);
    expect(result.updated).toEqual([
      {
        entry: { kind: "meter", category: "storage", id: meter?.id, eventName: "sparks_storage" },
        reason: "reactivated (it was inactive)",
      },
    ]);
    expect((await stripe.billing.meters.retrieve(meter?.id as string)).status).toBe("active");
    expect(await allMeters()).toHaveLength(3);
  });

  it("warns about an existing meter it cannot fix", async () => {
    await stripe.billing.meters.create({
      display_name: "wrong",
      event_name: "sparks_compute",
      default_aggregation: { formula: "count" },
    });
    const result = await setupStripeCatalog(stripe, { ...OPTIONS, categories: ["compute"] });
    expect(result.found.map((e) => e.kind)).toEqual(["meter"]);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain("aggregation count, expected sum");
    expect(formatSetupReport(result)).toContain("warning  meter");
  });

  it("keeps two prefixes on one account apart", async () => {
    await setupStripeCatalog(stripe, OPTIONS);
    const other = await setupStripeCatalog(stripe, { ...OPTIONS, prefix: "staging" });
    expect(other.found).toEqual([]);
    expect(other.created).toHaveLength(15);
  });
});
