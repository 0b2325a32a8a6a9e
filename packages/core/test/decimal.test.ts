import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  addDecimal,
  compareDecimal,
  decimalOf,
  divideToInteger,
  formatDecimal,
  multiplyDecimal,
  parseDecimal,
  subtractDecimal,
  toScaledInteger,
} from "../src/index";

function fmt(input: string | number): string {
  const parsed = parseDecimal(input);
  if (!parsed.ok) throw new Error(parsed.err.message);
  return formatDecimal(parsed.val);
}

describe("parseDecimal / formatDecimal", () => {
  it.each([
    ["0", "0"],
    ["-0", "0"],
    ["12.500", "12.5"],
    ["007", "7"],
    ["1e-7", "0.0000001"],
    ["1.5e+21", "1500000000000000000000"],
    ["-2.25E2", "-225"],
    ["0.000000001", "0.000000001"],
  ])("parses %s as %s", (input, expected) => {
    expect(fmt(input)).toBe(expected);
  });

  it("parses numbers through their shortest repr, so 0.1 is exactly one tenth", () => {
    expect(fmt(0.1)).toBe("0.1");
    expect(fmt(1e-7)).toBe("0.0000001");
    expect(fmt(1.5e21)).toBe("1500000000000000000000");
    expect(fmt(-0)).toBe("0");
    expect(fmt(Number.MAX_VALUE).length).toBe(309);
    expect(fmt(5e-324)).toBe(`0.${"0".repeat(323)}5`);
  });

  it.each(["", "abc", "1.", ".5", "1e", "1,5", " 1", "0x10", "1e999999", "Infinity", "NaN", "--1"])(
    "rejects %j with a message",
    (input) => {
      const parsed = parseDecimal(input);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.err.code).toBe("invalid_decimal");
    },
  );

  it("rejects non-finite numbers", () => {
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const parsed = parseDecimal(n);
      expect(parsed.ok).toBe(false);
    }
  });

  it("round-trips every finite double's shortest repr exactly", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const text = fmt(n);
        expect(Number(text)).toBe(Object.is(n, -0) ? 0 : n);
      }),
    );
  });

  it("round-trips bigint-scaled values", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.integer({ min: 0, max: 20 }),
        (units, scale) => {
          const d = decimalOf(`${units}e-${scale}`);
          expect(toScaledInteger(d, scale, "floor")).toBe(units);
          expect(decimalOf(formatDecimal(d))).toEqual(d);
        },
      ),
    );
  });
});

describe("decimal arithmetic", () => {
  it("adds, subtracts, multiplies and compares exactly", () => {
    const a = decimalOf("0.1");
    const b = decimalOf("0.2");
    expect(formatDecimal(addDecimal(a, b))).toBe("0.3");
    expect(formatDecimal(subtractDecimal(a, b))).toBe("-0.1");
    expect(formatDecimal(multiplyDecimal(a, b))).toBe("0.02");
    expect(compareDecimal(addDecimal(a, b), decimalOf("0.3"))).toBe(0);
    expect(compareDecimal(a, b)).toBe(-1);
  });

  it("rounds floor and half-up at a scale", () => {
    expect(toScaledInteger(decimalOf("1.235"), 2, "half_up")).toBe(124n);
    expect(toScaledInteger(decimalOf("1.2349"), 2, "half_up")).toBe(123n);
    expect(toScaledInteger(decimalOf("1.239"), 2, "floor")).toBe(123n);
    expect(toScaledInteger(decimalOf("-1.231"), 2, "floor")).toBe(-124n);
    expect(toScaledInteger(decimalOf("-1.235"), 2, "half_up")).toBe(-124n);
  });

  it("divides to an integer with floor", () => {
    expect(divideToInteger(decimalOf("10"), decimalOf("3"), "floor")).toBe(3n);
    expect(divideToInteger(decimalOf("1"), decimalOf("0.3"), "floor")).toBe(3n);
    expect(divideToInteger(decimalOf("0.5"), decimalOf("0.25"), "floor")).toBe(2n);
    expect(() => divideToInteger(decimalOf("1"), decimalOf("0"), "floor")).toThrow();
  });
});
