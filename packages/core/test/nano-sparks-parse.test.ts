import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CoreError } from "../src/core.error";
import { makeDecimal, parseDecimal } from "../src/decimal.math";
import { formatSparks, NANO_PER_SPARK, parseNanoSparks } from "../src/sparks.money";

/** numeric(38,9) text as Postgres prints it: always nine fraction digits. */
function numericText(nano: bigint): string {
  const sign = nano < 0n ? "-" : "";
  const abs = nano < 0n ? -nano : nano;
  return `${sign}${abs / NANO_PER_SPARK}.${(abs % NANO_PER_SPARK).toString().padStart(9, "0")}`;
}

const nanoAmount = fc.bigInt({ min: -(10n ** 29n), max: 10n ** 29n });

describe("parseNanoSparks, the one decimal → nano-Sparks parser", () => {
  it("reads plain decimals, exponents, signs and column text exactly", () => {
    expect(parseNanoSparks("12.345")).toBe(12_345_000_000n);
    expect(parseNanoSparks("0.000000001")).toBe(1n);
    expect(parseNanoSparks("-0.5")).toBe(-500_000_000n);
    expect(parseNanoSparks("1400.000000000")).toBe(1_400n * NANO_PER_SPARK);
    expect(parseNanoSparks("1e3")).toBe(1_000n * NANO_PER_SPARK);
    expect(parseNanoSparks("0")).toBe(0n);
  });

  it("takes an already parsed Decimal (reconcile's derived items)", () => {
    expect(parseNanoSparks(makeDecimal(125n, -1))).toBe(12_500_000_000n);
  });

  it("refuses what is not a decimal and anything finer than a nano-Spark, instead of truncating", () => {
    expect(() => parseNanoSparks("0.0000000001")).toThrow(CoreError);
    expect(() => parseNanoSparks(makeDecimal(1n, -10))).toThrow(/more than 9 decimal places/);
    for (const bad of ["twelve", "1.5k", "NaN", "", "1,5"])
      expect(() => parseNanoSparks(bad)).toThrow(CoreError);
  });

  it("round-trips every nano amount through formatSparks and through numeric(38,9) text", () => {
    fc.assert(
      fc.property(nanoAmount, (nano) => {
        expect(parseNanoSparks(formatSparks(nano))).toBe(nano);
        expect(parseNanoSparks(numericText(nano))).toBe(nano);
      }),
    );
  });

  it("agrees with the Decimal it parses (no float anywhere on the way)", () => {
    fc.assert(
      fc.property(nanoAmount, (nano) => {
        const parsed = parseDecimal(numericText(nano));
        expect(parsed.ok).toBe(true);
        if (parsed.ok) expect(parseNanoSparks(parsed.val)).toBe(nano);
      }),
    );
  });

  it("is additive: the sum of parsed parts is the parsed sum", () => {
    fc.assert(
      fc.property(nanoAmount, nanoAmount, (a, b) => {
        expect(parseNanoSparks(numericText(a)) + parseNanoSparks(numericText(b))).toBe(
          parseNanoSparks(numericText(a + b)),
        );
      }),
    );
  });
});
