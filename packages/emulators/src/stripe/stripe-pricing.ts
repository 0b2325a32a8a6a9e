import type { PriceObject } from "./stripe.types";

function unitAmount(unit: number | null, unitDecimal: string | null): number {
  if (unitDecimal !== null) return Number(unitDecimal);
  return unit ?? 0;
}

/**
 * What a quantity costs under a price, in the currency's minor unit. Stripe rounds the line
 * amount to a whole minor unit, which `Math.round` approximates (half away from zero).
 */
export function amountFor(price: PriceObject, quantity: number): number {
  let q = quantity;
  if (price.transform_quantity !== null) {
    const raw = q / price.transform_quantity.divide_by;
    q = price.transform_quantity.round === "up" ? Math.ceil(raw) : Math.floor(raw);
  }
  if (price.billing_scheme === "per_unit")
    return Math.round(q * unitAmount(price.unit_amount, price.unit_amount_decimal));
  const tiers = price.tiers ?? [];
  if (price.tiers_mode === "volume") {
    const tier = tiers.find((t) => t.up_to === null || q <= t.up_to) ?? tiers[tiers.length - 1];
    if (tier === undefined) return 0;
    const flat = unitAmount(tier.flat_amount, tier.flat_amount_decimal);
    return Math.round(q * unitAmount(tier.unit_amount, tier.unit_amount_decimal) + (q > 0 ? flat : 0));
  }
  let total = 0;
  let previous = 0;
  for (const tier of tiers) {
    if (q <= previous) break;
    const upper = tier.up_to === null ? q : Math.min(q, tier.up_to);
    total += (upper - previous) * unitAmount(tier.unit_amount, tier.unit_amount_decimal);
    total += unitAmount(tier.flat_amount, tier.flat_amount_decimal);
    previous = upper;
  }
  return Math.round(total);
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
