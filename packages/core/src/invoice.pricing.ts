import type { BillingConfig } from "./billing-config.types";
import { CoreError } from "./core.error";
import { parseDecimal } from "./decimal.math";
import {
  formatCents,
  formatUsdExact,
  NANO_PER_SPARK,
  roundUsdToCents,
  sparksToUsd,
  wholeSparks,
} from "./sparks.money";
import type { TierName } from "./tier.constants";
import { discountCents } from "./usage-report.pricing";
import { discountFor } from "./volume-discount.pricing";

/** One metered line of a Stripe invoice: the whole Sparks one price billed in one tier segment. */
export interface InvoiceLineInput {
  category: string;
  tier: TierName;
  /** Whole Sparks Stripe holds for this category in this segment (sent meter events). */
  sparks: bigint;
  /** USD per Spark of this line's price (`segmentRateUsd`); absent: the invoice's `sparkRateUsd`. */
  rateUsd?: string;
}

export interface PricedInvoiceLine extends InvoiceLineInput {
  /** Exact USD of the line (sparks × rate), before Stripe rounds it. */
  exactUsd: string;
  /** What Stripe charges for the line: the exact amount rounded half-up to the cent. */
  cents: bigint;
}

export interface InvoicePrice {
  lines: PricedInvoiceLine[];
  /** Sum of the rounded lines: the invoice's usage subtotal. */
  subtotalCents: bigint;
  discountPercent: string;
  /** The volume discount line: percent of the rounded subtotal, rounded half-up. */
  discountCents: bigint;
  /** subtotal − discount: what the finalized invoice totals. */
  totalCents: bigint;
  display: { subtotal: string; discount: string; total: string };
}

/**
 * The invoice Stripe will finalize for one customer-month, computed from the ledger alone
 * (issue 14): each metered line is rounded to the cent on its own, as Stripe rounds it; the
 * discount step is chosen on the month's whole Sparks (every tier segment, SPEC §1) and is a
 * percentage of the rounded subtotal, rounded half-up — exactly the line Sparks writes on the
 * draft. `monthSparksNano` is the exact Sparks of the month (the report's `total_sparks`); a
 * month without any priced line gets no discount. `extraCents` are other invoice lines Sparks
 * wrote (credits, negative), included in the total and taken off the discount's base.
 */
export function priceInvoice(
  lines: readonly InvoiceLineInput[],
  monthSparksNano: bigint,
  config: BillingConfig,
  sparkRateUsd: string = config.sparkRateUsd,
  extraCents = 0n,
): InvoicePrice {
  const rate = parseDecimal(sparkRateUsd);
  if (!rate.ok || rate.val.coefficient < 0n) {
    throw new CoreError("invalid_rate", `spark rate "${sparkRateUsd}" is not a non-negative decimal`);
  }
  let subtotal = 0n;
  let anyPriced = false;
  const priced = lines.map((line): PricedInvoiceLine => {
    const policy = config.tiers[line.tier];
    if (!policy) throw new CoreError("invalid_argument", `unknown tier ${String(line.tier)}`);
    if (line.sparks < 0n)
      throw new CoreError("invalid_argument", "an invoice line's Sparks must not be negative");
    if (!policy.priced) return { ...line, exactUsd: "0.00", cents: 0n };
    anyPriced = anyPriced || line.sparks > 0n;
    const lineRate = line.rateUsd === undefined ? rate : parseDecimal(line.rateUsd);
    if (!lineRate.ok || lineRate.val.coefficient < 0n) {
      throw new CoreError("invalid_rate", `spark rate "${line.rateUsd}" is not a non-negative decimal`);
    }
    const exact = sparksToUsd(line.sparks * NANO_PER_SPARK, lineRate.val);
    const cents = roundUsdToCents(exact);
    subtotal += cents;
    return { ...line, exactUsd: formatUsdExact(exact), cents };
  });
  const percent = anyPriced ? discountFor(wholeSparks(monthSparksNano), config.discounts).percent : "0";
  // The discount applies to usage net of credits (a shrink given back is not usage).
  const discount = percent === "0" ? 0n : discountCents(subtotal + extraCents, percent);
  const total = subtotal - discount + extraCents;
  return {
    lines: priced,
    subtotalCents: subtotal,
    discountPercent: percent,
    discountCents: discount,
    totalCents: total,
    display: {
      subtotal: formatCents(subtotal),
      discount: formatCents(discount),
      total: formatCents(total),
    },
  };
}
