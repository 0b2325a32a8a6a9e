import type { BillingConfig, DiscountStep } from "./billing-config.types";
import { CoreError } from "./core.error";
import {
  DECIMAL_ZERO,
  type Decimal,
  formatDecimal,
  multiplyDecimal,
  parseDecimal,
  subtractDecimal,
} from "./decimal.math";
import {
  formatCents,
  formatSparks,
  formatUsdExact,
  roundUsdToCents,
  sparksToUsd,
  wholeSparks,
} from "./sparks.money";
import type { TierName } from "./tier.constants";

export interface DiscountChoice {
  /** Normalized decimal string, "0" when no step applies. */
  percent: string;
  step: DiscountStep | null;
}

function parsePercent(step: DiscountStep): Decimal {
  const parsed = parseDecimal(step.percent);
  if (!parsed.ok)
    throw new CoreError("invalid_rate", `discount percent over ${step.over}: ${parsed.err.message}`);
  if (parsed.val.coefficient < 0n || isOver100(parsed.val)) {
    throw new CoreError("invalid_rate", `discount percent over ${step.over} must be between 0 and 100`);
  }
  return parsed.val;
}

function isOver100(value: Decimal): boolean {
  return subtractDecimal(value, { coefficient: 100n, exponent: 0 }).coefficient > 0n;
}

/**
 * The step with the highest `over` that the month's whole Sparks strictly exceed: "exceed
 * 10,000" means 10,000 gets nothing and 10,001 gets 5%. Steps need not be sorted.
 */
export function discountFor(monthSparksWhole: bigint, steps: readonly DiscountStep[]): DiscountChoice {
  let best: DiscountStep | null = null;
  for (const step of steps) {
    if (!Number.isSafeInteger(step.over) || step.over < 0) {
      throw new CoreError(
        "invalid_rate",
        `discount step "over" must be a non-negative whole number, got ${step.over}`,
      );
    }
    if (monthSparksWhole > BigInt(step.over) && (best === null || step.over > best.over)) best = step;
  }
  if (best === null) return { percent: "0", step: null };
  return { percent: formatDecimal(parsePercent(best)), step: best };
}

export interface MonthPrice {
  /** The Sparks priced, exact (trimmed decimal). */
  sparks: string;
  /** Exact USD amounts, plain decimals with at least 2 fraction digits. */
  grossUsd: string;
  discountPercent: string;
  discountUsd: string;
  netUsd: string;
  discountStep: DiscountStep | null;
  /**
   * Cents for invoices and screens: gross and discount each rounded half-up to the cent, and
   * net = gross − discount of those rounded values, so the three lines always add up.
   */
  display: { grossUsd: string; discountUsd: string; netUsd: string };
}

export interface PriceMonthInput {
  /** The month's Sparks for one customer (all categories), in nano-Sparks. */
  sparksNano: bigint;
  config: BillingConfig;
  tier: TierName;
}

/**
 * Prices one customer-month. The discount step is chosen on floor(Sparks) — the whole Sparks
 * Stripe is told — and applies to the whole month's charge (SPEC §1). An unpriced tier (free)
 * costs $0 and gets no discount.
 */
export function priceMonth(input: PriceMonthInput): MonthPrice {
  const { sparksNano, config, tier } = input;
  if (sparksNano < 0n) throw new CoreError("invalid_argument", "a month's Sparks must not be negative");
  const policy = config.tiers[tier];
  if (!policy) throw new CoreError("invalid_argument", `unknown tier ${String(tier)}`);
  const sparks = formatSparks(sparksNano);
  if (!policy.priced) {
    const zero = formatUsdExact(DECIMAL_ZERO);
    return {
      sparks,
      grossUsd: zero,
      discountPercent: "0",
      discountUsd: zero,
      netUsd: zero,
      discountStep: null,
      display: { grossUsd: zero, discountUsd: zero, netUsd: zero },
    };
  }
  const rate = parseDecimal(config.sparkRateUsd);
  if (!rate.ok || rate.val.coefficient < 0n) {
    throw new CoreError(
      "invalid_rate",
      `sparkRateUsd "${config.sparkRateUsd}" is not a non-negative decimal`,
    );
  }
  const gross = sparksToUsd(sparksNano, rate.val);
  const choice = discountFor(wholeSparks(sparksNano), config.discounts);
  const percent = parseDecimal(choice.percent);
  const discount = percent.ok
    ? multiplyDecimal(gross, { ...percent.val, exponent: percent.val.exponent - 2 })
    : DECIMAL_ZERO;
  const net = subtractDecimal(gross, discount);
  const grossCents = roundUsdToCents(gross);
  const discountCents = roundUsdToCents(discount);
  return {
    sparks,
    grossUsd: formatUsdExact(gross),
    discountPercent: choice.percent,
    discountUsd: formatUsdExact(discount),
    netUsd: formatUsdExact(net),
    discountStep: choice.step,
    display: {
      grossUsd: formatCents(grossCents),
      discountUsd: formatCents(discountCents),
      netUsd: formatCents(grossCents - discountCents),
    },
  };
}
