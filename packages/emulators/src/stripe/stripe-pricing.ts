import type { PriceObject } from "./stripe.types";

/** A decimal string as an exact fraction `n / 10^SCALE` (Stripe allows 12 decimal places). */
const SCALE = 12;
const ONE = 10n ** BigInt(SCALE);

export function parseDecimal(value: string | number): bigint {
  const s = String(value).trim();
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(s);
  if (m === null || (m[2] === "" && (m[3] ?? "") === "")) throw new Error(`not a decimal: ${s}`);
  const frac = (m[3] ?? "").slice(0, SCALE).padEnd(SCALE, "0");
  const n = BigInt(m[2] === "" || m[2] === undefined ? "0" : m[2]) * ONE + BigInt(frac);
  return m[1] === "-" ? -n : n;
}

function unitAmount(unit: number | null, unitDecimal: string | null): bigint {
  if (unitDecimal !== null) return parseDecimal(unitDecimal);
  return BigInt(unit ?? 0) * ONE;
}

/**
 * Rounds an exact amount (minor units × 10^12) to a whole minor unit, half away from zero:
 * Stripe rounds each invoice line after multiplying quantity by the decimal unit amount
 * ("0.05 × 30 = 1.5, which is then rounded up to 2 cents"; docs: decimal amounts).
 */
export function roundMinor(scaled: bigint): number {
  const neg = scaled < 0n;
  const abs = neg ? -scaled : scaled;
  const whole = abs / ONE;
  const rounded = abs % ONE >= ONE / 2n ? whole + 1n : whole;
  return Number(neg ? -rounded : rounded);
}

/** `unit_amount_decimal × quantity`, rounded to the minor unit as on an invoice line. */
export function lineAmount(unitDecimal: string, quantity: number): number {
  return roundMinor(parseDecimal(unitDecimal) * BigInt(quantity));
}

/**
 * What a quantity costs under a price, in the currency's minor unit: computed exactly from the
 * decimal unit amounts, then rounded once for the line (never per unit).
 */
export function amountFor(price: PriceObject, quantity: number): number {
  let q = BigInt(quantity);
  if (price.transform_quantity !== null) {
    const d = BigInt(price.transform_quantity.divide_by);
    q = price.transform_quantity.round === "up" ? (q + d - 1n) / d : q / d;
  }
  if (price.billing_scheme === "per_unit")
    return roundMinor(q * unitAmount(price.unit_amount, price.unit_amount_decimal));
  const tiers = price.tiers ?? [];
  if (price.tiers_mode === "volume") {
    const tier = tiers.find((t) => t.up_to === null || q <= BigInt(t.up_to)) ?? tiers[tiers.length - 1];
    if (tier === undefined) return 0;
    const flat = unitAmount(tier.flat_amount, tier.flat_amount_decimal);
    return roundMinor(q * unitAmount(tier.unit_amount, tier.unit_amount_decimal) + (q > 0n ? flat : 0n));
  }
  let total = 0n;
  let previous = 0n;
  for (const tier of tiers) {
    if (q <= previous) break;
    const upper = tier.up_to === null ? q : q < BigInt(tier.up_to) ? q : BigInt(tier.up_to);
    total += (upper - previous) * unitAmount(tier.unit_amount, tier.unit_amount_decimal);
    total += unitAmount(tier.flat_amount, tier.flat_amount_decimal);
    previous = upper;
  }
  return roundMinor(total);
}

/** Adds calendar months in UTC, clamping to the month's last day as Stripe does. */
export function addMonthsUtc(unixSec: number, months: number): number {
  const d = new Date(unixSec * 1000);
  const day = d.getUTCDate();
  const target = new Date(
    Date.UTC(
      d.getUTCFullYear(),
      d.getUTCMonth() + months,
      1,
      d.getUTCHours(),
      d.getUTCMinutes(),
      d.getUTCSeconds(),
    ),
  );
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return Math.floor(target.getTime() / 1000);
}

export function periodEnd(start: number, interval: string, count: number): number {
  switch (interval) {
    case "day":
      return start + 86_400 * count;
    case "week":
      return start + 7 * 86_400 * count;
    case "year":
      return addMonthsUtc(start, 12 * count);
    default:
      return addMonthsUtc(start, count);
  }
}
