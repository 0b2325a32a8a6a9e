import { describe, expect, it } from "vitest";
import { DEFAULT_BILLING_CONFIG, NANO_PER_SPARK, priceInvoice } from "../src";

const sparks = (n: bigint) => n * NANO_PER_SPARK;

describe("priceInvoice: what Stripe invoices", () => {
  it("rounds each line on its own, half-up, then discounts the rounded subtotal", () => {
    // 6,000 + 4,001 Sparks: lines 600 ¢ and 400.1 ¢ → 400 ¢; 10,001 Sparks → 5% of 1,000 ¢.
    const p = priceInvoice(
      [
        { category: "ai_tokens", tier: "standard", sparks: 6_000n },
        { category: "compute", tier: "standard", sparks: 4_001n },
      ],
      sparks(10_001n),
      DEFAULT_BILLING_CONFIG,
    );
    expect(p.lines.map((l) => [l.exactUsd, l.cents])).toEqual([
      ["6.00", 600n],
      ["4.001", 400n],
    ]);
    expect(p).toMatchObject({
      subtotalCents: 1_000n,
      discountPercent: "5",
      discountCents: 50n,
      totalCents: 950n,
    });
    expect(p.display).toEqual({ subtotal: "10.00", discount: "0.50", total: "9.50" });
  });

  it("9,990 + 20 Sparks at 23:55: $10.01 − $0.50 = $9.51 (the discount's half cent rounds half-up)", () => {
    const p = priceInvoice(
      [{ category: "ai_tokens", tier: "standard", sparks: 10_010n }],
      sparks(10_010n),
      DEFAULT_BILLING_CONFIG,
    );
    expect(p.display).toEqual({ subtotal: "10.01", discount: "0.50", total: "9.51" });
  });

  it("a line of half a cent rounds up; exactly 10,000 Sparks gets no discount", () => {
    const p = priceInvoice(
      [{ category: "storage", tier: "standard", sparks: 5n }],
      sparks(10_000n),
      DEFAULT_BILLING_CONFIG,
    );
    expect(p).toMatchObject({ subtotalCents: 1n, discountCents: 0n, totalCents: 1n });
  });

  it("free-tier lines cost $0 and a month with nothing priced gets no discount", () => {
    const p = priceInvoice(
      [{ category: "ai_tokens", tier: "free", sparks: 20_000n }],
      sparks(20_000n),
      DEFAULT_BILLING_CONFIG,
    );
    expect(p).toMatchObject({ subtotalCents: 0n, discountPercent: "0", totalCents: 0n });
  });

  it("the discount step is chosen on the whole month (both tier segments), applied to priced lines", () => {
    const p = priceInvoice(
      [
        { category: "ai_tokens", tier: "free", sparks: 4_000n },
        { category: "ai_tokens", tier: "standard", sparks: 7_000n },
      ],
      sparks(11_000n),
      DEFAULT_BILLING_CONFIG,
    );
    expect(p).toMatchObject({
      subtotalCents: 700n,
      discountPercent: "5",
      discountCents: 35n,
      totalCents: 665n,
    });
  });

  it("a negotiated rate prices every line; credits lower the total", () => {
    const p = priceInvoice(
      [{ category: "compute", tier: "enterprise", sparks: 1_234n }],
      sparks(1_234n),
      DEFAULT_BILLING_CONFIG,
      "0.0008",
      -25n,
    );
    expect(p.lines[0]?.cents).toBe(99n); // 98.72 ¢
    expect(p.totalCents).toBe(74n);
  });

  it("refuses a negative line and a bad rate", () => {
    expect(() =>
      priceInvoice([{ category: "x", tier: "standard", sparks: -1n }], 0n, DEFAULT_BILLING_CONFIG),
    ).toThrow(/negative/);
    expect(() => priceInvoice([], 0n, DEFAULT_BILLING_CONFIG, "abc")).toThrow(/rate/);
  });
});
