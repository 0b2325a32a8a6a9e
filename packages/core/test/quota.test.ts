import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CoreError,
  countersFailPolicy,
  crossedThresholds,
  DEFAULT_BILLING_CONFIG,
  evaluateQuota,
  reachedThresholds,
  spendCapAmountProblem,
  spendCapSparks,
} from "../src/index";

const config = DEFAULT_BILLING_CONFIG;

describe("evaluateQuota", () => {
  it("allows a free customer below 10,000 Sparks and refuses at the cap", () => {
    expect(evaluateQuota({ tier: "free", usedSparks: 9_999, config })).toEqual({
      allowed: true,
      tier: "free",
      limit: 10_000,
      used: 9_999,
      remaining: 1,
    });
    expect(evaluateQuota({ tier: "free", usedSparks: 10_000n, config })).toEqual({
      allowed: false,
      tier: "free",
      limit: 10_000,
      used: 10_000,
      remaining: 0,
      reason: "quota_exceeded",
    });
    expect(evaluateQuota({ tier: "free", usedSparks: 12_345, config }).remaining).toBe(0);
  });

  it("treats standard as unlimited and honours enterprise custom quotas", () => {
    expect(evaluateQuota({ tier: "standard", usedSparks: 10n ** 12n, config })).toEqual({
      allowed: true,
      tier: "standard",
      limit: null,
      used: 1e12,
      remaining: null,
    });
    expect(evaluateQuota({ tier: "enterprise", usedSparks: 500, customQuota: 500, config })).toMatchObject({
      allowed: false,
      limit: 500,
      reason: "quota_exceeded",
    });
    expect(evaluateQuota({ tier: "free", usedSparks: 20_000, customQuota: null, config }).allowed).toBe(true);
  });

  it("refuses while a failed payment pauses usage", () => {
    expect(evaluateQuota({ tier: "standard", usedSparks: 0, paused: "payment_failed", config })).toEqual({
      allowed: false,
      tier: "standard",
      limit: null,
      used: 0,
      remaining: null,
      reason: "payment_failed",
    });
    expect(evaluateQuota({ tier: "standard", usedSparks: 0, paused: null, config }).allowed).toBe(true);
  });

  it("rejects bad inputs with typed errors", () => {
    expect(() => evaluateQuota({ tier: "free", usedSparks: -1, config })).toThrow(CoreError);
    expect(() => evaluateQuota({ tier: "free", usedSparks: 1.5, config })).toThrow(/whole number/);
    expect(() => evaluateQuota({ tier: "free", usedSparks: 1, customQuota: -5, config })).toThrow(CoreError);
  });

  it("allowed ⇔ used < limit, remaining = max(0, limit − used) (property)", () => {
    fc.assert(
      fc.property(fc.nat({ max: 1e9 }), fc.nat({ max: 1e9 }), (used, quota) => {
        const d = evaluateQuota({ tier: "enterprise", usedSparks: used, customQuota: quota, config });
        expect(d.allowed).toBe(used < quota);
        expect(d.remaining).toBe(Math.max(0, quota - used));
      }),
    );
  });
});

describe("crossedThresholds", () => {
  it("reports 80% and 100% once as usage passes them", () => {
    expect(crossedThresholds(0, 7_999, 10_000)).toEqual([]);
    expect(crossedThresholds(7_999, 8_000, 10_000)).toEqual([80]);
    expect(crossedThresholds(8_000, 9_999, 10_000)).toEqual([]);
    expect(crossedThresholds(9_999, 10_000, 10_000)).toEqual([100]);
    expect(crossedThresholds(0, 20_000, 10_000)).toEqual([80, 100]);
    expect(crossedThresholds(10_000, 20_000, 10_000)).toEqual([]);
    expect(crossedThresholds(0, 5, null)).toEqual([]);
    expect(crossedThresholds(0, 5, 0)).toEqual([]);
    expect(crossedThresholds(0n, 50n, 100n, [25, 50, 75])).toEqual([25, 50]);
  });

  it("rejects non-integer thresholds", () => {
    expect(() => crossedThresholds(0, 1, 10, [80.5])).toThrow(CoreError);
  });

  it("fires each threshold exactly once along any growing usage path (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 5_000 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 20_000 }),
        (steps, limit) => {
          let used = 0;
          const fired: number[] = [];
          for (const step of steps) {
            fired.push(...crossedThresholds(used, used + step, limit));
            used += step;
          }
          const expected = [80, 100].filter((t) => used * 100 >= t * limit);
          expect(fired).toEqual(expected);
        },
      ),
    );
  });
});

describe("spend caps and the counters fail policy", () => {
  it("converts a USD cap at the Spark rate, rounding down, and a Sparks cap as given", () => {
    expect(spendCapSparks({ unit: "usd", amount: "25.50" }, "0.001")).toBe(25_500);
    expect(spendCapSparks({ unit: "usd", amount: "1" }, "0.0003")).toBe(3_333);
    expect(spendCapSparks({ unit: "sparks", amount: "99.9" }, "0.001")).toBe(99);
  });

  it("a hard cap refuses at 100% with spend_cap_exceeded; a soft one only reports the limit", () => {
    const base = { tier: "standard" as const, config: DEFAULT_BILLING_CONFIG };
    expect(
      evaluateQuota({ ...base, usedSparks: 999, spendCap: { sparks: 1_000, soft: false } }),
    ).toMatchObject({
      allowed: true,
      limit: 1_000,
      remaining: 1,
    });
    expect(
      evaluateQuota({ ...base, usedSparks: 1_000, spendCap: { sparks: 1_000, soft: false } }),
    ).toMatchObject({
      allowed: false,
      reason: "spend_cap_exceeded",
    });
    expect(
      evaluateQuota({ ...base, usedSparks: 5_000, spendCap: { sparks: 1_000, soft: true } }),
    ).toMatchObject({
      allowed: true,
      limit: 1_000,
      remaining: 0,
    });
  });

  it("free fails closed and paid fails open unless configured", () => {
    expect(countersFailPolicy(DEFAULT_BILLING_CONFIG, "free")).toBe("fail_closed");
    expect(countersFailPolicy(DEFAULT_BILLING_CONFIG, "standard")).toBe("fail_open");
    const config = {
      ...DEFAULT_BILLING_CONFIG,
      tiers: {
        ...DEFAULT_BILLING_CONFIG.tiers,
        standard: { monthlyQuota: null, priced: true, countersUnavailable: "fail_closed" as const },
      },
    };
    expect(countersFailPolicy(config, "standard")).toBe("fail_closed");
  });

  it("refuses malformed cap amounts and names why", () => {
    expect(spendCapAmountProblem("250")).toBeNull();
    expect(spendCapAmountProblem("0")).toMatch(/greater than zero/);
    expect(spendCapAmountProblem("1e3")).toMatch(/plain positive decimal/);
    expect(reachedThresholds(800, 1_000, [50, 80, 100])).toEqual([50, 80]);
  });
});
