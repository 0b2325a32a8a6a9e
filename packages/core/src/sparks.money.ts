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

/** Parses "12.345" (or "1e3") into nano-Sparks; throws if it is not a decimal or finer than 1e-9. */
export function parseSparks(text: string): bigint {
  const parsed = parseDecimal(text);
  if (!parsed.ok) throw new CoreError("invalid_sparks", `Sparks value: ${parsed.err.message}`);
  if (!isExactAtScale(parsed.val, SPARK_SCALE)) {
    throw new CoreError("invalid_sparks", `Sparks value "${text}" has more than 9 decimal places`);
  }
  return toScaledInteger(parsed.val, SPARK_SCALE, "floor");
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
