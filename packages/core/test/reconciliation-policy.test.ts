import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DECIMAL_ZERO, decimalOf } from "../src/decimal.math";
import {
  driftAlertLines,
  fixIdentifier,
  hourlyGaps,
  hourOf,
  marginRows,
  pickMatching,
  resendIdentifiers,
} from "../src/reconciliation.policy";

describe("pickMatching", () => {
  it("prefers one exact event, else sums the largest that fit, else gives up", () => {
    const events = [{ value: 5 }, { value: 3 }, { value: 2 }];
    expect(pickMatching(events, 3)).toEqual([{ value: 3 }]);
    expect(pickMatching(events, 7)).toEqual([{ value: 5 }, { value: 2 }]);
    expect(pickMatching(events, 11)).toBeNull();
    expect(pickMatching([], 1)).toBeNull();
  });

  it("whatever it picks sums exactly to the target and is a subset of the candidates", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 200 }),
        (values, target) => {
          const candidates = values.map((value, i) => ({ value, i }));
          const picked = pickMatching(candidates, target);
          if (picked === null) return;
          expect(picked.reduce((a, c) => a + c.value, 0)).toBe(target);
          expect(new Set(picked.map((c) => c.i)).size).toBe(picked.length);
        },
      ),
    );
  });
});

describe("repair identifiers", () => {
  it("tries the original first, then numbered repair ids that fit Stripe's length limit", () => {
    expect(resendIdentifiers("ai_tokens-t1", 0, 100)).toEqual(["ai_tokens-t1", "ai_tokens-t1-fix1"]);
    expect(resendIdentifiers("ai_tokens-t1", 2, 100)).toEqual(["ai_tokens-t1-fix3"]);
    const long = "x".repeat(100);
    expect(fixIdentifier(long, 12, 100)).toHaveLength(100);
    expect(fixIdentifier(long, 12, 100).endsWith("-fix12")).toBe(true);
  });
});

describe("hourlyGaps", () => {
  it("lists ledger − Stripe per hour where they differ, oldest first", () => {
    const at = new Date("2026-11-10T10:42:00Z");
    expect(hourOf(at)).toBe(Date.UTC(2026, 10, 10, 10) / 1000);
    const ledger = new Map([
      [7200, 10],
      [3600, 5],
    ]);
    const stripe = new Map([
      [3600, 5],
      [10800, 4],
    ]);
    expect(hourlyGaps(ledger, stripe)).toEqual([
      { hour: 7200, gap: 10 },
      { hour: 10800, gap: -4 },
    ]);
  });
});

describe("marginRows", () => {
  it("bills whole Sparks at the rate (free tier at $0) and floors the margin percent", () => {
    const rows = marginRows(
      "0.001",
      [
        { customerId: "a", tier: "standard", sent: 1_400n },
        { customerId: "b", tier: "free", sent: 9_000n },
      ],
      new Map([
        ["a", decimalOf("0.75")],
        ["b", decimalOf("2")],
      ]),
      20,
    );
    expect(rows).toEqual([
      {
        customer_id: "a",
        billed_usd: "1.4",
        langfuse_cost_usd: "0.75",
        margin_percent: 46,
        below_floor: false,
      },
      { customer_id: "b", billed_usd: "0", langfuse_cost_usd: "2", margin_percent: null, below_floor: false },
    ]);
    expect(
      marginRows(
        "0.001",
        [{ customerId: "a", tier: "standard", sent: 1_000n }],
        new Map([["a", decimalOf("0.9")]]),
        20,
      )[0],
    ).toMatchObject({ margin_percent: 10, below_floor: true });
    expect(marginRows("0.001", [], new Map([["c", DECIMAL_ZERO]]), 20)[0]?.margin_percent).toBeNull();
  });
});

describe("driftAlertLines", () => {
  it("alerts at or above the threshold in either direction, on either comparison", () => {
    expect(driftAlertLines("ai_tokens", 0n, 0n, 1n)).toEqual([]);
    expect(driftAlertLines("ai_tokens", 999_999_999n, null, 1n)).toEqual([]);
    expect(driftAlertLines("ai_tokens", -1_000_000_000n, -1n, 1n)).toEqual([
      "ai_tokens: Langfuse − ledger = -1 Sparks",
      "ai_tokens: Stripe − ledger sent = -1 Sparks",
    ]);
    expect(driftAlertLines("compute", null, 5n, 10n)).toEqual([]);
  });
});
