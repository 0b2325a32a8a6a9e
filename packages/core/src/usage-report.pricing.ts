import type { BillingConfig, DiscountStep } from "./billing-config.types";
import { CoreError } from "./core.error";
import {
  addDecimal,
  DECIMAL_ZERO,
  type Decimal,
  multiplyDecimal,
  parseDecimal,
  subtractDecimal,
} from "./decimal.math";
import { monthRange } from "./month.period";
import {
  formatCents,
  formatSparks,
  formatUsdExact,
  roundUsdToCents,
  sparksToUsd,
  wholeSparks,
} from "./sparks.money";
import type { TierName } from "./tier.constants";
import { discountFor } from "./volume-discount.pricing";

export interface TierPeriod {
  tier: TierName;
  from: Date;
  /** null: still in force. */
  to: Date | null;
  /** The negotiated USD per Spark of the period (enterprise); null or absent: the catalog rate. */
  rate?: string | null;
}

export interface MonthTierSegment {
  tier: TierName;
  from: Date;
  to: Date;
  /** The negotiated rate in force (enterprise); null: the catalog rate. */
  rate: string | null;
}

/**
 * USD per Spark a segment is billed at: its negotiated rate on enterprise, else the catalog's.
 * (Stripe bills each part of the month at the price on the subscription then.)
 */
export function segmentRateUsd(
  segment: { tier: TierName; rate?: string | null },
  catalogRateUsd: string,
): string {
  return segment.tier === "enterprise" && segment.rate ? segment.rate : catalogRateUsd;
}

/** What one Spark of `tier` costs this customer: "0" on an unpriced tier (free), else `segmentRateUsd`. */
export function tierRateUsd(config: BillingConfig, tier: TierName, negotiatedRate: string | null): string {
  if (!config.tiers[tier].priced) return "0";
  return segmentRateUsd({ tier, rate: negotiatedRate }, config.sparkRateUsd);
}

/**
 * The tiers in force during a month, as contiguous segments covering the whole month. Tier
 * history intersected with the month; the first segment reaches back to the 1st (usage
 * before the first recorded tier was billed under it), equal neighbours merge, and a
 * customer without history gets one segment of `currentTier`.
 */
export function monthTierSegments(
  history: readonly TierPeriod[],
  month: string,
  currentTier: TierName,
  /** The rate for a customer without history (its current negotiated rate). */
  currentRate: string | null = null,
): MonthTierSegment[] {
  const { start, end } = monthRange(month);
  const inMonth = [...history]
    .sort((a, b) => a.from.getTime() - b.from.getTime())
    .filter((h) => h.from < end && (h.to === null || h.to > start));
  if (inMonth.length === 0) {
    // The tier in force before the month (the latest entry that began earlier) still holds.
    const before = [...history]
      .filter((h) => h.from < start)
      .sort((a, b) => b.from.getTime() - a.from.getTime());
    const held = before[0];
    return held
      ? [{ tier: held.tier, from: start, to: end, rate: held.rate ?? null }]
      : [{ tier: currentTier, from: start, to: end, rate: currentRate }];
  }
  const segments: MonthTierSegment[] = [];
  inMonth.forEach((h, i) => {
    const from = i === 0 ? start : new Date(Math.max(start.getTime(), h.from.getTime()));
    const next = inMonth[i + 1];
    const to = next ? new Date(Math.min(end.getTime(), next.from.getTime())) : end;
    if (to <= from) return;
    const last = segments[segments.length - 1];
    const rate = h.rate ?? null;
    if (last && last.tier === h.tier && last.rate === rate) last.to = to;
    else segments.push({ tier: h.tier, from, to, rate });
  });
  return segments;
}

export interface SegmentSparks {
  tier: TierName;
  sparksNano: bigint;
  /** This segment's USD per Spark (see `segmentRateUsd`); absent: the month's `sparkRateUsd`. */
  rateUsd?: string;
}

function parseRate(rateUsd: string): Decimal {
  const rate = parseDecimal(rateUsd);
  if (!rate.ok || rate.val.coefficient < 0n) {
    throw new CoreError("invalid_rate", `spark rate "${rateUsd}" is not a non-negative decimal`);
  }
  return rate.val;
}

export interface SegmentsPrice {
  /** Exact Sparks of the whole month (all segments). */
  sparks: string;
  discountPercent: string;
  discountStep: DiscountStep | null;
  grossUsd: string;
  discountUsd: string;
  netUsd: string;
  /** Cents, each half-up; net = gross − discount of the rounded values. */
  display: { grossUsd: string; discountUsd: string; netUsd: string };
}

/**
 * Prices a customer-month that may span several tiers (SPEC §1, §5): each segment's Sparks
 * at its tier's price (an unpriced tier such as free costs $0), and the volume discount chosen
 * on the whole month's whole Sparks, applied to the whole month's charge. With one segment
 * this equals `priceMonth`. `sparkRateUsd` overrides the configured rate (a negotiated one).
 */
export function priceTierSegments(
  segments: readonly SegmentSparks[],
  config: BillingConfig,
  sparkRateUsd: string = config.sparkRateUsd,
): SegmentsPrice {
  const monthRate = parseRate(sparkRateUsd);
  let totalNano = 0n;
  let gross: Decimal = DECIMAL_ZERO;
  let anyPriced = false;
  for (const s of segments) {
    if (s.sparksNano < 0n) throw new CoreError("invalid_argument", "a segment's Sparks must not be negative");
    const policy = config.tiers[s.tier];
    if (!policy) throw new CoreError("invalid_argument", `unknown tier ${String(s.tier)}`);
    totalNano += s.sparksNano;
    if (policy.priced) {
      anyPriced = true;
      const rate = s.rateUsd === undefined ? monthRate : parseRate(s.rateUsd);
      gross = addDecimal(gross, sparksToUsd(s.sparksNano, rate));
    }
  }
  const choice = anyPriced
    ? discountFor(wholeSparks(totalNano), config.discounts)
    : { percent: "0", step: null };
  const percent = parseDecimal(choice.percent);
  const discount = percent.ok
    ? multiplyDecimal(gross, { ...percent.val, exponent: percent.val.exponent - 2 })
    : DECIMAL_ZERO;
  const net = subtractDecimal(gross, discount);
  const grossCents = roundUsdToCents(gross);
  const discountCents = roundUsdToCents(discount);
  return {
    sparks: formatSparks(totalNano),
    discountPercent: choice.percent,
    discountStep: choice.step,
    grossUsd: formatUsdExact(gross),
    discountUsd: formatUsdExact(discount),
    netUsd: formatUsdExact(net),
    display: {
      grossUsd: formatCents(grossCents),
      discountUsd: formatCents(discountCents),
      netUsd: formatCents(grossCents - discountCents),
    },
  };
}

/**
 * The volume discount of an invoice in cents: `percent` of the usage subtotal Stripe computed,
 * rounded half-up, so the draft shows exactly the percentage of what it charges.
 */
export function discountCents(usageSubtotalCents: bigint, percent: string): bigint {
  const p = parseDecimal(percent);
  if (!p.ok) throw new CoreError("invalid_rate", `discount percent "${percent}" is not a decimal`);
  if (usageSubtotalCents <= 0n) return 0n;
  const amount = multiplyDecimal(
    { coefficient: usageSubtotalCents, exponent: -2 },
    { ...p.val, exponent: p.val.exponent - 2 },
  );
  return roundUsdToCents(amount);
}
