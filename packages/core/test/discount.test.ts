import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BillingConfig,
  CoreError,
  DEFAULT_BILLING_CONFIG,
  decimalOf,
  discountFor,
  NANO_PER_SPARK,
  priceMonth,
  subtractDecimal,
} from "../src/index";

const config = DEFAULT_BILLING_CONFIG;
const steps = config.discounts;

describe("discountFor", () => {
  it("applies only when the month strictly exceeds the step", () => {
    expect(discountFor(0n, steps)).toEqual({ percent: "0", step: null });
    expect(discountFor(10_000n, steps)).toEqual({ percent: "0", step: null });
    expect(discountFor(10_001n, steps)).toEqual({ percent: "5", step: { over: 10_000, percent: "5" } });
  });

  it("picks the highest exceeded step from an unsorted table", () => {
    const table = [
      { over: 100_000, percent: "10" },
      { over: 10_000, percent: "5" },
      { over: 50_000, percent: "7.50" },
    ];
    expect(discountFor(50_000n, table).percent).toBe("5");
    expect(discountFor(50_001n, table).percent).toBe("7.5");
    expect(discountFor(10n ** 15n, table).percent).toBe("10");
    expect(discountFor(5n, [])).toEqual({ percent: "0", step: null });
  });

  it("rejects malformed steps", () => {
    expect(() => discountFor(20_000n, [{ over: 1, percent: "abc" }])).toThrow(CoreError);
    expect(() => discountFor(20_000n, [{ over: 1, percent: "101" }])).toThrow(/between 0 and 100/);
    expect(() => discountFor(20_000n, [{ over: 1.5, percent: "1" }])).toThrow(/whole number/);
  });

  it("is monotonic in the month's Sparks (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 8n }), fc.bigInt({ min: 0n, max: 10n ** 8n }), (a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(Number(discountFor(lo, steps).percent)).toBeLessThanOrEqual(
          Number(discountFor(hi, steps).percent),
        );
        expect(discountFor(a, steps).percent).toBe(a > 10_000n ? "5" : "0");
      }),
    );
  });
});

describe("priceMonth", () => {
  it("prices exactly 10,000 Sparks without discount and 10,001 with 5%", () => {
    const at = priceMonth({ sparksNano: 10_000n * NANO_PER_SPARK, config, tier: "standard" });
    expect(at).toMatchObject({
      sparks: "10000",
      grossUsd: "10.00",
      discountPercent: "0",
      discountUsd: "0.00",
      netUsd: "10.00",
      discountStep: null,
    });
    const over = priceMonth({ sparksNano: 10_001n * NANO_PER_SPARK, config, tier: "standard" });
    expect(over).toMatchObject({
      sparks: "10001",
      grossUsd: "10.001",
      discountPercent: "5",
      discountUsd: "0.50005",
      netUsd: "9.50095",
      display: { grossUsd: "10.00", discountUsd: "0.50", netUsd: "9.50" },
    });
  });

  it("decides the step on whole Sparks: 10,000.999999999 is not over 10,000", () => {
    const price = priceMonth({ sparksNano: 10_001n * NANO_PER_SPARK - 1n, config, tier: "enterprise" });
    expect(price.discountPercent).toBe("0");
    expect(price.sparks).toBe("10000.999999999");
    expect(price.grossUsd).toBe("10.000999999999");
  });

  it("prices the free tier at $0 even above the discount step", () => {
    const price = priceMonth({ sparksNano: 50_000n * NANO_PER_SPARK, config, tier: "free" });
    expect(price).toEqual({
      sparks: "50000",
      grossUsd: "0.00",
      discountPercent: "0",
      discountUsd: "0.00",
      netUsd: "0.00",
      discountStep: null,
      display: { grossUsd: "0.00", discountUsd: "0.00", netUsd: "0.00" },
    });
  });

  it("uses the configured Spark rate", () => {
    const custom: BillingConfig = { ...config, sparkRateUsd: "0.0008" };
    expect(
      priceMonth({ sparksNano: 1_000n * NANO_PER_SPARK, config: custom, tier: "standard" }).grossUsd,
    ).toBe("0.80");
    expect(() =>
      priceMonth({ sparksNano: 1n, config: { ...config, sparkRateUsd: "x" }, tier: "standard" }),
    ).toThrow(CoreError);
  });

  it("keeps exact net = gross − discount and display lines that add up (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 24n }), (sparksNano) => {
        const p = priceMonth({ sparksNano, config, tier: "standard" });
        const gross = decimalOf(p.grossUsd);
        expect(subtractDecimal(gross, decimalOf(p.discountUsd))).toEqual(decimalOf(p.netUsd));
        expect(subtractDecimal(decimalOf(p.display.grossUsd), decimalOf(p.display.discountUsd))).toEqual(
          decimalOf(p.display.netUsd),
        );
        expect(decimalOf(p.netUsd).coefficient >= 0n).toBe(true);
        expect(p.netUsd.startsWith("-")).toBe(false);
      }),
    );
  });
});
