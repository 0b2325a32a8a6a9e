import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CoreError,
  decimalOf,
  formatCents,
  formatSparks,
  formatUsdExact,
  NANO_PER_SPARK,
  parseNanoSparks,
  roundUsdToCents,
  sparksToUsd,
  wholeSparks,
} from "../src/index";

describe("Sparks as nano-Sparks", () => {
  it("formats trimmed exact decimals", () => {
    expect(NANO_PER_SPARK).toBe(1_000_000_000n);
    expect(formatSparks(12_345_000_000n)).toBe("12.345");
    expect(formatSparks(0n)).toBe("0");
    expect(formatSparks(1n)).toBe("0.000000001");
    expect(formatSparks(10_000n * NANO_PER_SPARK)).toBe("10000");
    expect(formatSparks(-1_500_000_000n)).toBe("-1.5");
  });

  it("parses Sparks strings and rejects finer than a nano", () => {
    expect(parseNanoSparks("12.345")).toBe(12_345_000_000n);
    expect(parseNanoSparks("1e15")).toBe(10n ** 24n);
    expect(() => parseNanoSparks("0.0000000001")).toThrow(CoreError);
    expect(() => parseNanoSparks("twelve")).toThrow(/Sparks value/);
  });

  it("round-trips any nano amount", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 27n), max: 10n ** 27n }), (nano) => {
        expect(parseNanoSparks(formatSparks(nano))).toBe(nano);
      }),
    );
  });

  it("floors to whole Sparks", () => {
    expect(wholeSparks(1_999_999_999n)).toBe(1n);
    expect(wholeSparks(999_999_999n)).toBe(0n);
    expect(wholeSparks(-1n)).toBe(-1n);
  });
});

describe("USD", () => {
  it("prices Sparks exactly and rounds half-up to cents for display", () => {
    const usd = sparksToUsd(12_345n * NANO_PER_SPARK, "0.001");
    expect(formatUsdExact(usd)).toBe("12.345");
    expect(formatCents(roundUsdToCents(usd))).toBe("12.35");
    const tiny = sparksToUsd(1n, "0.001");
    expect(formatUsdExact(tiny)).toBe("0.000000000001");
    expect(formatCents(roundUsdToCents(tiny))).toBe("0.00");
    expect(formatCents(roundUsdToCents(decimalOf("0.004999")))).toBe("0.00");
    expect(formatCents(roundUsdToCents(decimalOf("0.005")))).toBe("0.01");
    expect(formatUsdExact(decimalOf("3"))).toBe("3.00");
  });
});
