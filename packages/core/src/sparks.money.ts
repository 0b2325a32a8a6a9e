import { CoreError } from "./core.error";
import {
  type Decimal,
  decimalOf,
  formatDecimal,
  fromScaledInteger,
  isExactAtScale,
  multiplyDecimal,
  parseDecimal,
  toScaledInteger,
} from "./decimal.math";

/**
 * Exact Sparks are held as nano-Sparks (bigint): the ledger floors each item at 1e-9 Spark,
 * which is far below anything Stripe (whole Sparks) or a USD cent can see.
 */
export const NANO_PER_SPARK = 1_000_000_000n;
export const SPARK_SCALE = 9;
export const CENT_SCALE = 2;

/**
 * Trimmed plain decimal: "12.345", "0", "10000", "0.000000001". Trimmed rather than fixed
 * 9 digits because reports and JSON read better and the value is still exact.
 */
export function formatSparks(nano: bigint): string {
  return formatDecimal(fromScaledInteger(nano, SPARK_SCALE));
}

/**
 * The one decimal → nano-Sparks parser: "12.345", "-0.5", "1400.000000000" (a numeric(38,9)
 * column's text), "1e3", or an already parsed Decimal → exact nano-Sparks. Pure bigint
 * arithmetic, never a float. Throws a CoreError when the text is not a decimal or holds a
 * value finer than 1e-9 Spark (nothing in the ledger is: silently truncating would lose money).
 */
export function parseNanoSparks(value: string | Decimal): bigint {
  let decimal: Decimal;
  if (typeof value === "string") {
    const parsed = parseDecimal(value);
    if (!parsed.ok) throw new CoreError("invalid_sparks", `Sparks value: ${parsed.err.message}`);
    decimal = parsed.val;
  } else decimal = value;
  if (!isExactAtScale(decimal, SPARK_SCALE)) {
    throw new CoreError(
      "invalid_sparks",
      `Sparks value "${typeof value === "string" ? value : formatDecimal(value)}" has more than 9 decimal places`,
    );
  }
  return toScaledInteger(decimal, SPARK_SCALE, "floor");
}

/** Whole Sparks contained in an exact nano amount (floor), what Stripe can be told at most. */
export function wholeSparks(nano: bigint): bigint {
  const q = nano / NANO_PER_SPARK;
  return nano % NANO_PER_SPARK !== 0n && nano < 0n ? q - 1n : q;
}

/** Exact USD for an amount of nano-Sparks at `sparkRateUsd` USD per Spark (no rounding). */
export function sparksToUsd(nanoSparks: bigint, sparkRateUsd: string | Decimal): Decimal {
  return multiplyDecimal(fromScaledInteger(nanoSparks, SPARK_SCALE), decimalOf(sparkRateUsd));
}

/** Rounds an exact USD amount to whole cents, half-up (half away from zero), for display. */
export function roundUsdToCents(usd: Decimal): bigint {
  return toScaledInteger(usd, CENT_SCALE, "half_up");
}

/** "12.35", "0.00", "-1.05". */
export function formatCents(cents: bigint): string {
  return formatDecimal(fromScaledInteger(cents, CENT_SCALE), { minFractionDigits: CENT_SCALE });
}

/** Exact USD as a plain decimal string with at least 2 fraction digits: "12.3456789", "12.50". */
export function formatUsdExact(usd: Decimal): string {
  return formatDecimal(usd, { minFractionDigits: CENT_SCALE });
}
