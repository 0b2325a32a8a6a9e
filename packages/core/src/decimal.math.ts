import { floorDiv, halfUpDiv, pow10 } from "./bigint.math";
import { CoreError } from "./core.error";
import { err, ok, type Result } from "./result.util";

/**
 * An exact decimal: value = coefficient × 10^exponent. Always normalized (no trailing zeros in
 * the coefficient; zero is {0n, 0}), so two equal values have equal fields.
 */
export interface Decimal {
  readonly coefficient: bigint;
  readonly exponent: number;
}

export interface DecimalParseError {
  readonly code: "invalid_decimal";
  readonly message: string;
}

export type Rounding = "floor" | "half_up";

/**
 * Bounds that keep a hostile string like "1e999999999" from allocating a giant bigint. Every
 * finite double (up to ~1.8e308, down to 5e-324) fits well inside them.
 */
export const MAX_DECIMAL_EXPONENT = 400;
const MAX_DECIMAL_INPUT_LENGTH = 400;

const DECIMAL_PATTERN = /^(-)?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,6}))?$/;

export const DECIMAL_ZERO: Decimal = Object.freeze({ coefficient: 0n, exponent: 0 });

export function makeDecimal(coefficient: bigint, exponent: number): Decimal {
  if (coefficient === 0n) return DECIMAL_ZERO;
  let c = coefficient;
  // `+ 0` turns -0 (from e.g. `-scale` with scale 0) into 0, so equal values have equal fields.
  let e = exponent + 0;
  while (c % 10n === 0n) {
    c /= 10n;
    e += 1;
  }
  return { coefficient: c, exponent: e };
}

/**
 * Parses a plain or exponent-notation decimal string ("12.5", "-3", "1e-7", "1.5e+21"), or a
 * finite JS number through its shortest round-trip repr `String(n)` — so 0.1 parses as exactly
 * 1/10, which is what the JSON text said, not the binary double's expansion.
 */
export function parseDecimal(input: string | number): Result<Decimal, DecimalParseError> {
  let text: string;
  if (typeof input === "number") {
    if (!Number.isFinite(input)) return err(parseError(`${String(input)} is not a finite number`));
    text = String(input);
  } else if (typeof input === "string") {
    text = input;
  } else {
    return err(parseError(`expected a decimal string or number, got ${typeof input}`));
  }
  if (text.length > MAX_DECIMAL_INPUT_LENGTH) {
    return err(parseError(`decimal string is longer than ${MAX_DECIMAL_INPUT_LENGTH} characters`));
  }
  const match = DECIMAL_PATTERN.exec(text);
  if (!match) return err(parseError(`"${text}" is not a decimal number`));
  const [, sign, intPart = "", fracPart = "", expPart = "0"] = match;
  const exponent = Number.parseInt(expPart, 10) - fracPart.length;
  const digits = BigInt(intPart + fracPart);
  const value = makeDecimal(sign === "-" ? -digits : digits, exponent);
  if (Math.abs(value.exponent) > MAX_DECIMAL_EXPONENT) {
    return err(
      parseError(`"${text}" is outside the supported range (exponent beyond ±${MAX_DECIMAL_EXPONENT})`),
    );
  }
  return ok(value);
}

/** Like parseDecimal but throws; for values (config, constants) that were validated before. */
export function decimalOf(input: string | number | Decimal): Decimal {
  if (typeof input === "object") return input;
  const parsed = parseDecimal(input);
  if (!parsed.ok) throw new CoreError("invalid_decimal", parsed.err.message);
  return parsed.val;
}

function parseError(message: string): DecimalParseError {
  return { code: "invalid_decimal", message };
}

export interface FormatDecimalOptions {
  /** Pad with trailing zeros to at least this many fraction digits (e.g. 2 for "12.50"). */
  minFractionDigits?: number;
}

/** Plain notation, never exponent notation; no trailing zeros beyond `minFractionDigits`. */
export function formatDecimal(value: Decimal, options: FormatDecimalOptions = {}): string {
  const minFraction = options.minFractionDigits ?? 0;
  const negative = value.coefficient < 0n;
  const digits = (negative ? -value.coefficient : value.coefficient).toString();
  let intPart: string;
  let fracPart: string;
  if (value.exponent >= 0) {
    intPart = value.coefficient === 0n ? "0" : digits + "0".repeat(value.exponent);
    fracPart = "";
  } else {
    const fractionDigits = -value.exponent;
    const padded = digits.padStart(fractionDigits + 1, "0");
    intPart = padded.slice(0, padded.length - fractionDigits);
    fracPart = padded.slice(padded.length - fractionDigits);
  }
  fracPart = fracPart.padEnd(minFraction, "0");
  const body = fracPart.length > 0 ? `${intPart}.${fracPart}` : intPart;
  return negative ? `-${body}` : body;
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const exponent = Math.min(a.exponent, b.exponent);
  const ac = a.coefficient * pow10(a.exponent - exponent);
  const bc = b.coefficient * pow10(b.exponent - exponent);
  return makeDecimal(ac + bc, exponent);
}

export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  return addDecimal(a, { coefficient: -b.coefficient, exponent: b.exponent });
}

export function multiplyDecimal(a: Decimal, b: Decimal): Decimal {
  return makeDecimal(a.coefficient * b.coefficient, a.exponent + b.exponent);
}

export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const diff = subtractDecimal(a, b).coefficient;
  return diff < 0n ? -1 : diff > 0n ? 1 : 0;
}

/** The integer value × 10^scale, rounded as asked (e.g. scale 9 → nano units, 2 → cents). */
export function toScaledInteger(value: Decimal, scale: number, rounding: Rounding): bigint {
  const shift = value.exponent + scale;
  if (shift >= 0) return value.coefficient * pow10(shift);
  const divisor = pow10(-shift);
  return rounding === "floor" ? floorDiv(value.coefficient, divisor) : halfUpDiv(value.coefficient, divisor);
}

/** True when value × 10^scale is an integer (no precision would be lost). */
export function isExactAtScale(value: Decimal, scale: number): boolean {
  return value.exponent + scale >= 0;
}

export function fromScaledInteger(units: bigint, scale: number): Decimal {
  return makeDecimal(units, -scale);
}

/** floor or half-up of numerator / denominator as an integer; denominator must be positive. */
export function divideToInteger(numerator: Decimal, denominator: Decimal, rounding: Rounding): bigint {
  if (denominator.coefficient <= 0n) throw new RangeError("divideToInteger needs a positive denominator");
  const shift = numerator.exponent - denominator.exponent;
  const n = shift >= 0 ? numerator.coefficient * pow10(shift) : numerator.coefficient;
  const d = shift >= 0 ? denominator.coefficient : denominator.coefficient * pow10(-shift);
  return rounding === "floor" ? floorDiv(n, d) : halfUpDiv(n, d);
}
