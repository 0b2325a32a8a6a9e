import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BillingConfig,
  CoreError,
  DEFAULT_BILLING_CONFIG,
  decimalOf,
  isTierName,
  isUsageCategory,
  NANO_PER_SPARK,
  TIER_NAMES,
  toNanoSparks,
  USAGE_CATEGORIES,
} from "../src/index";

const config = DEFAULT_BILLING_CONFIG;

describe("constants", () => {
  it("lists categories and tiers and narrows unknown values", () => {
    expect(USAGE_CATEGORIES).toEqual(["ai_tokens", "compute", "storage"]);
    expect(TIER_NAMES).toEqual(["free", "standard", "enterprise"]);
    expect(isUsageCategory("compute")).toBe(true);
    expect(isUsageCategory("gpu")).toBe(false);
    expect(isUsageCategory(1)).toBe(false);
    expect(isTierName("enterprise")).toBe(true);
    expect(isTierName("gold")).toBe(false);
    expect(isTierName(null)).toBe(false);
  });

  it("has the SPEC defaults", () => {
    expect(config.rates.ai_tokens).toEqual({ per: "1000", sparks: "100", unit: "tokens" });
    expect(config.rates.compute).toEqual({ per: "60000", sparks: "50", unit: "ms" });
    expect(config.rates.storage).toEqual({ per: "730", sparks: "500", unit: "GB-hours" });
    expect(config.discounts).toEqual([{ over: 10_000, percent: "5" }]);
    expect(config.tiers.free).toEqual({ monthlyQuota: 10_000, priced: false });
    expect(config.tiers.standard).toEqual({ monthlyQuota: null, priced: true });
    expect(config.tiers.enterprise).toEqual({ monthlyQuota: null, priced: true });
    expect(config.maxSparksPerItem).toBe(1_000_000);
    expect(config.sparkRateUsd).toBe("0.001");
    expect(Object.isFrozen(config.rates.compute)).toBe(true);
  });
});

describe("toNanoSparks", () => {
  it("converts the SPEC reference points exactly", () => {
    expect(toNanoSparks("ai_tokens", "1000", config)).toBe(100n * NANO_PER_SPARK);
    expect(toNanoSparks("compute", "60000", config)).toBe(50n * NANO_PER_SPARK);
    expect(toNanoSparks("storage", "730", config)).toBe(500n * NANO_PER_SPARK);
    expect(toNanoSparks("ai_tokens", "1", config)).toBe(100_000_000n);
    expect(toNanoSparks("compute", decimalOf("0.5"), config)).toBe(416_666n);
  });

  it("floors to a whole nano-Spark (1 GB-hour = 500/730 Spark)", () => {
    // 500/730 = 0.684931506849... → 684931506 nano
    expect(toNanoSparks("storage", "1", config)).toBe(684_931_506n);
    expect(toNanoSparks("compute", "1e-7", config)).toBe(0n);
    expect(toNanoSparks("ai_tokens", "0", config)).toBe(0n);
  });

  it("handles huge quantities (1e15 Sparks worth) without loss", () => {
    expect(toNanoSparks("ai_tokens", "1e16", config)).toBe(10n ** 15n * NANO_PER_SPARK);
  });

  it("never exceeds the exact value and is within 1 nano of it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...USAGE_CATEGORIES),
        fc.bigInt({ min: 0n, max: 10n ** 20n }),
        fc.integer({ min: 0, max: 12 }),
        (category, units, scale) => {
          const nano = toNanoSparks(category, `${units}e-${scale}`, config);
          const rate = config.rates[category];
          // exact nano = units × sparks × 1e9 / (per × 10^scale); check floor bounds with integers.
          const num = units * BigInt(rate.sparks) * NANO_PER_SPARK;
          const den = BigInt(rate.per) * 10n ** BigInt(scale);
          expect(nano * den <= num).toBe(true);
          expect((nano + 1n) * den > num).toBe(true);
        },
      ),
    );
  });

  it("honours configured rates with decimals", () => {
    const custom: BillingConfig = {
      ...config,
      rates: { ...config.rates, compute: { per: "1", sparks: "0.25", unit: "ms" } },
    };
    expect(toNanoSparks("compute", "3", custom)).toBe(750_000_000n);
  });

  it("rejects negative or malformed quantities and bad rates with typed errors", () => {
    expect(() => toNanoSparks("compute", "-1", config)).toThrow(CoreError);
    expect(() => toNanoSparks("compute", "abc", config)).toThrow(/compute quantity/);
    const bad: BillingConfig = {
      ...config,
      rates: { ...config.rates, storage: { per: "0", sparks: "1", unit: "x" } },
    };
    expect(() => toNanoSparks("storage", "1", bad)).toThrow(/per must be positive/);
  });
});
