import {
  type BillingConfig,
  type InvoicePrice,
  isTierName,
  monthTierSegments,
  priceInvoice,
  segmentRateUsd,
  type TierName,
  type TierPeriod,
  USAGE_CATEGORIES,
} from "@sparks/core";
import type { SparksDb, SparksTx } from "../database.types";
import type { CustomerRow } from "../schema/customers.schema";
import { TierHistoryRepository } from "./tier-history.repository";
import { UsageCorrectionRepository } from "./usage-correction.repository";
import { UsageReportRepository } from "./usage-report.repository";

export interface ExpectedInvoice extends InvoicePrice {
  /** The month's exact Sparks (every counted item filed in the month, late lines included). */
  monthSparksNano: bigint;
  rate: string;
  segments: Array<{ tier: TierName; from: Date; to: Date; rate: string | null }>;
}

/**
 * What the customer's Stripe invoice for `month` must total, from the ledger alone: one line
 * per category and tier segment with the whole Sparks Stripe acknowledged for it, each rounded
 * as Stripe rounds, less the credits corrections put on the invoice, and the volume discount on
 * the month's whole Sparks (issue 14). The report
 * (`/usage/report`) and the month close use this same computation, so "report net = invoice
 * total" is one rule, not two.
 */
export async function expectedInvoice(
  db: SparksDb | SparksTx,
  billing: BillingConfig,
  customer: Pick<CustomerRow, "id" | "tier" | "negotiatedRate">,
  month: string,
): Promise<ExpectedInvoice> {
  const report = new UsageReportRepository(db);
  const history = await new TierHistoryRepository(db).list(customer.id);
  const tier: TierName = isTierName(customer.tier) ? customer.tier : "free";
  const periods: TierPeriod[] = history.flatMap((h) =>
    isTierName(h.tier) ? [{ tier: h.tier, from: h.effectiveFrom, to: h.effectiveTo, rate: h.rate }] : [],
  );
  const currentRate = tier === "enterprise" ? customer.negotiatedRate : null;
  const segments = monthTierSegments(periods, month, tier, currentRate);
  const lines = [];
  for (const segment of segments) {
    const sent = await report.sentBetween(customer.id, segment.from, segment.to);
    for (const category of USAGE_CATEGORIES) {
      const sparks = sent.get(category) ?? 0n;
      if (sparks > 0n)
        lines.push({
          category,
          tier: segment.tier,
          sparks,
          rateUsd: segmentRateUsd(segment, billing.sparkRateUsd),
        });
    }
  }
  const totals = await report.categoryTotals(customer.id, month);
  const monthSparksNano = totals.reduce((sum, c) => sum + c.exactNano, 0n);
  const rate =
    tier === "enterprise" && customer.negotiatedRate ? customer.negotiatedRate : billing.sparkRateUsd;
  // Shrinks credited on this invoice (negative invoice items, docs/corrections.md).
  const credits = await new UsageCorrectionRepository(db).invoiceCreditCentsOfMonth(customer.id, month);
  const price = priceInvoice(lines, monthSparksNano, billing, rate, -credits);
  return { ...price, monthSparksNano, rate, segments };
}
