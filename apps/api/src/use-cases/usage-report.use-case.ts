import type { AppConfig } from "@sparks/config";
import {
  correctionTotals,
  evaluateQuota,
  formatCents,
  formatSparks,
  isTierName,
  isUsageCategory,
  monthRange,
  monthTierSegments,
  priceTierSegments,
  segmentRateUsd,
  type TierName,
  type TierPeriod,
  tierRateUsd,
  USAGE_CATEGORIES,
  wholeSparks,
} from "@sparks/core";
import {
  CustomerMonthCloseRepository,
  type DailyCategoryTotal,
  type Database,
  expectedInvoice,
  isDatabase,
  type ReportItem,
  readReportSnapshot,
  type SparksDb,
  sparksBetween,
  UsageCorrectionRepository,
  UsageReportRepository,
} from "@sparks/db";
import { NotFoundError } from "../errors/http-errors";

export interface UsageReportCategory {
  category: string;
  quantity: string;
  unit: string | null;
  sparks: string;
  /** floor(sparks): the most Stripe may be told (SPEC §1). */
  whole_sparks: string;
  /** What Stripe acknowledged (sent meter events) for this category and month. */
  sent_sparks: string;
  items: number;
}

export interface UsageReport {
  customer_id: string;
  month: string;
  period: { start: string; end: string };
  closed: boolean;
  month_status: string;
  tier: TierName;
  status: string;
  pause_reason: string | null;
  tier_segments: Array<{ tier: TierName; from: string; to: string; sparks: string }>;
  categories: UsageReportCategory[];
  total_sparks: string;
  total_sent_sparks: string;
  discount: { percent: string; step: { over: number; percent: string } | null };
  /**
   * What Stripe invoices (issue 14): each metered line (category × tier segment, the whole
   * Sparks Stripe holds) rounded to the cent as Stripe rounds it, the volume-discount line, and
   * net = the invoice total. `exact` keeps the unrounded value of all counted usage beside them.
   */
  usd: {
    rate: string;
    gross: string;
    discount: string;
    net: string;
    display: { gross: string; discount: string; net: string };
    exact: { gross: string; discount: string; net: string };
    lines: Array<{ category: string; tier: TierName; sparks: string; exact: string; amount: string }>;
  };
  /** The customer's Stripe invoice for the month, as the month close last saw it; null before Stripe cut it. */
  invoice: {
    id: string;
    status: string;
    total: string | null;
    /** The invoice total equals the ledger's (this report's net) to the cent. */
    matches_ledger: boolean;
    /** Why Sparks still holds it, null once released. */
    hold_reason: string | null;
    at_risk: string | null;
  } | null;
  /** This customer's month is closed: later usage of it is billed in a later month. */
  customer_month_closed: boolean;
  /** Late lines billed in this month, per month they happened in. */
  late_usage: Array<{ from_month: string; sparks: string; items: number }>;
  /** Usage of this month that arrived after it closed, and the month that billed it. */
  billed_late: Array<{ billed_in: string; sparks: string; items: number }>;
  quota: { limit: number | null; used: number; remaining: number | null };
  cost_centers: Array<{ cost_center: string; sparks: string; items: number }>;
  /** Days (UTC) with counted usage, in order; days without usage are left out. */
  daily: UsageReportDay[];
  not_billed: { quarantined: number; unbillable: number };
  corrections: UsageReportCorrections;
}

/**
 * What Stripe bills for the month's usage and what corrections gave back (docs/corrections.md):
 * `billed` is the sent, not cancelled, meter events priced per tier line and rounded to the cent
 * as Stripe rounds a line; `credited` the invoice credits and credit notes; `net` = billed −
 * credited, what Stripe charges before the volume discount. Cancelled events are not billed.
 */
export interface UsageReportCorrections {
  billed_sparks: string;
  credited_sparks: string;
  cancelled_sparks: string;
  net_sparks: string;
  usd: { billed: string; credited: string; net: string };
  /** Shrinks (or steps) not yet applied in Stripe; 0 once every shrink was given back. */
  pending: number;
  entries: Array<{
    category: string;
    kind: string;
    status: string;
    sparks: number;
    usd: string;
    tier: string | null;
    trace_ids: string[];
    stripe_object_id: string | null;
    stripe_invoice_id: string | null;
  }>;
}

export interface UsageReportDay {
  /** UTC calendar day, YYYY-MM-DD. */
  date: string;
  sparks: string;
  items: number;
  /** Exact Sparks per category that had usage that day. */
  categories: Record<string, string>;
}

/** Folds per-(day, category) totals into one entry per day, summing exactly in nano-Sparks. */
function dailyView(rows: DailyCategoryTotal[]): UsageReportDay[] {
  const days = new Map<string, { nano: bigint; items: number; categories: Record<string, string> }>();
  for (const row of rows) {
    const day = days.get(row.day) ?? { nano: 0n, items: 0, categories: {} };
    day.nano += row.exactNano;
    day.items += row.items;
    day.categories[row.category] = formatSparks(row.exactNano);
    days.set(row.day, day);
  }
  return [...days].map(([date, d]) => ({
    date,
    sparks: formatSparks(d.nano),
    items: d.items,
    categories: d.categories,
  }));
}

export interface ReportItemView {
  item_id: number;
  trace_id: string;
  occurred_at: string;
  category: string;
  revision: number;
  quantity: string | null;
  unit: string | null;
  sparks: string;
  sent_sparks: number;
  sent: boolean;
  status: string;
  meter_event_identifier: string | null;
  cost_center: string;
  tier: string | null;
  reason: string | null;
}

export function toItemView(item: ReportItem): ReportItemView {
  return {
    item_id: item.id,
    trace_id: item.traceId,
    occurred_at: item.occurredAt.toISOString(),
    category: item.category,
    revision: item.quantityRevision,
    quantity: item.quantity,
    unit: item.unit,
    sparks: formatSparks(item.exactNano),
    sent_sparks: item.sentSparks,
    sent: item.status === "sent",
    status: item.status,
    meter_event_identifier: item.meterEventIdentifier,
    cost_center: item.costCenter,
    tier: item.tier,
    reason: item.reason,
  };
}

/**
 * The monthly report of SPEC §4 from the ledger: exact Sparks per category and cost center,
 * what Stripe was told, tier segments (tier history ∩ month), USD through core pricing, and
 * quota used from the same ledger totals (the report is the auditable view; `/quota` reads
 * the Redis counters). The summary is read in one statement (`readReportSnapshot`) and never
 * cached: it is exact and current on every call.
 */
export class UsageReportUseCase {
  private readonly report: UsageReportRepository;

  /**
   * `source`: the composed Database (the summary then runs as a prepared statement on
   * Postgres), or a bare drizzle handle.
   */
  constructor(
    private readonly source: SparksDb | Database,
    private readonly config: AppConfig,
  ) {
    this.report = new UsageReportRepository(isDatabase(source) ? source.db : source);
  }

  async build(customerId: string, month: string): Promise<UsageReport> {
    const { start, end } = monthRange(month);
    const snapshot = await readReportSnapshot(this.source, customerId, month, { start, end });
    const customer = snapshot.customer;
    if (!customer) throw new NotFoundError(`customer_id: no customer ${customerId}`, "customer_not_found");
    const tier: TierName = isTierName(customer.tier) ? customer.tier : "free";
    const billing = this.config.billing;
    const categoryRows = snapshot.categories;
    const sent = snapshot.sentByCategory;
    const costCenters = snapshot.costCenters;
    const counts = snapshot.statusCounts;
    const monthStatus = snapshot.monthStatus;

    const periods: TierPeriod[] = snapshot.history.flatMap((h) =>
      isTierName(h.tier) ? [{ tier: h.tier, from: h.from, to: h.to, rate: h.rate }] : [],
    );
    const currentRate = tier === "enterprise" ? customer.negotiatedRate : null;
    const segments = monthTierSegments(periods, month, tier, currentRate);
    const segmentSparks = segments.map((s) => ({
      ...s,
      sparksNano: sparksBetween(snapshot, s.from, s.to),
      rateUsd: segmentRateUsd(s, billing.sparkRateUsd),
    }));

    const byCategory = new Map(categoryRows.map((c) => [c.category, c]));
    const categoryNames = [
      ...USAGE_CATEGORIES,
      ...categoryRows.map((c) => c.category).filter((c) => !isUsageCategory(c)),
    ];
    const categories: UsageReportCategory[] = categoryNames.map((name) => {
      const row = byCategory.get(name);
      const exact = row?.exactNano ?? 0n;
      return {
        category: name,
        quantity: row?.quantity ?? "0",
        unit: row?.unit ?? (isUsageCategory(name) ? billing.rates[name].unit : null),
        sparks: formatSparks(exact),
        whole_sparks: wholeSparks(exact).toString(),
        sent_sparks: (sent.get(name) ?? 0n).toString(),
        items: row?.items ?? 0,
      };
    });
    const totalNano = categoryRows.reduce((sum, c) => sum + c.exactNano, 0n);
    const totalSent = [...sent.values()].reduce((sum, v) => sum + v, 0n);

    // The rate in force at the month's end; each segment is priced at its own rate (a
    // negotiated rate changed mid-month opens a segment, as the price swap splits Stripe's lines).
    const rate = segmentSparks[segmentSparks.length - 1]?.rateUsd ?? billing.sparkRateUsd;
    // Segments priced on their own Sparks; the discount is chosen on the month's total, which
    // equals the segments' sum because segments cover the month without overlap.
    const price = priceTierSegments(
      segmentSparks.map((s) => ({ tier: s.tier, sparksNano: s.sparksNano, rateUsd: s.rateUsd })),
      billing,
      rate,
    );
    const db = isDatabase(this.source) ? this.source.db : this.source;
    const invoicePrice = await expectedInvoice(
      db,
      billing,
      { id: customerId, tier, negotiatedRate: customer.negotiatedRate },
      month,
    );
    const close = await new CustomerMonthCloseRepository(db).find(customerId, month);
    const lateUsage = await this.report.lateInto(customerId, month);
    const billedLate = await this.report.billedLateFrom(customerId, month);
    const used = wholeSparks(totalNano < 0n ? 0n : totalNano);
    const quota = evaluateQuota({
      tier,
      usedSparks: used,
      ...(customer.customQuota === null ? {} : { customQuota: customer.customQuota }),
      paused: customer.pauseReason === "payment_failed" ? "payment_failed" : null,
      config: billing,
    });

    const corrections = await this.corrections(customerId, month, customer.tier, customer.negotiatedRate);

    return {
      customer_id: customerId,
      month,
      period: { start: start.toISOString(), end: end.toISOString() },
      closed: monthStatus === "closed",
      month_status: monthStatus,
      tier,
      status: customer.status,
      pause_reason: customer.pauseReason,
      tier_segments: segmentSparks.map((s) => ({
        tier: s.tier,
        from: s.from.toISOString(),
        to: s.to.toISOString(),
        sparks: formatSparks(s.sparksNano),
      })),
      categories,
      total_sparks: formatSparks(totalNano),
      total_sent_sparks: totalSent.toString(),
      discount: { percent: price.discountPercent, step: price.discountStep },
      usd: {
        rate,
        gross: invoicePrice.display.subtotal,
        discount: invoicePrice.display.discount,
        net: invoicePrice.display.total,
        display: {
          gross: invoicePrice.display.subtotal,
          discount: invoicePrice.display.discount,
          net: invoicePrice.display.total,
        },
        exact: { gross: price.grossUsd, discount: price.discountUsd, net: price.netUsd },
        lines: invoicePrice.lines.map((l) => ({
          category: l.category,
          tier: l.tier,
          sparks: l.sparks.toString(),
          exact: l.exactUsd,
          amount: formatCents(l.cents),
        })),
      },
      invoice:
        close?.invoiceId == null
          ? null
          : {
              id: close.invoiceId,
              status: close.invoiceStatus ?? "draft",
              total: close.invoiceTotalCents === null ? null : formatCents(close.invoiceTotalCents),
              matches_ledger: close.invoiceTotalCents === invoicePrice.totalCents,
              hold_reason: close.holdReason,
              at_risk: close.atRiskCents === null ? null : formatCents(close.atRiskCents),
            },
      customer_month_closed: close?.status === "closed",
      late_usage: lateUsage.map((l) => ({
        from_month: l.fromMonth,
        sparks: formatSparks(l.exactNano),
        items: l.items,
      })),
      billed_late: billedLate.map((l) => ({
        billed_in: l.billedIn,
        sparks: formatSparks(l.exactNano),
        items: l.items,
      })),
      quota: { limit: quota.limit, used: quota.used, remaining: quota.remaining },
      cost_centers: costCenters.map((c) => ({
        cost_center: c.costCenter,
        sparks: formatSparks(c.exactNano),
        items: c.items,
      })),
      daily: dailyView(snapshot.daily),
      not_billed: { quarantined: counts.quarantined ?? 0, unbillable: counts.unbillable ?? 0 },
      corrections,
    };
  }

  private async corrections(
    customerId: string,
    month: string,
    currentTier: string,
    negotiatedRate: string | null,
  ): Promise<UsageReportCorrections> {
    const billing = this.config.billing;
    const repo = new UsageCorrectionRepository(isDatabase(this.source) ? this.source.db : this.source);
    const [billedByTier, entries, pending] = await Promise.all([
      repo.billedSparksOfMonth(customerId, month),
      repo.ofMonth(customerId, month),
      repo.openShrinkCount(customerId, month),
    ]);
    const rateOf = (tier: string | null): string =>
      tierRateUsd(
        billing,
        tier !== null && isTierName(tier) ? tier : isTierName(currentTier) ? currentTier : "free",
        negotiatedRate,
      );
    const credits = entries.filter((e) => e.kind !== "cancel" && e.status !== "failed");
    const totals = correctionTotals(
      [...billedByTier].map(([tier, sparks]) => ({ sparks, rateUsd: rateOf(tier) })),
      credits.map((e) => BigInt(e.cents)),
    );
    const billedSparks = [...billedByTier.values()].reduce((a, b) => a + b, 0n);
    const creditedSparks = credits.reduce((a, e) => a + BigInt(e.sparks), 0n);
    const cancelledSparks = entries
      .filter((e) => e.kind === "cancel" && e.status === "done")
      .reduce((a, e) => a + BigInt(e.sparks), 0n);
    return {
      billed_sparks: billedSparks.toString(),
      credited_sparks: creditedSparks.toString(),
      cancelled_sparks: cancelledSparks.toString(),
      net_sparks: (billedSparks - creditedSparks).toString(),
      usd: {
        billed: formatCents(totals.billedCents),
        credited: formatCents(totals.creditedCents),
        net: formatCents(totals.netCents),
      },
      pending,
      entries: entries.map((e) => ({
        category: e.usageCategory,
        kind: e.kind,
        status: e.status,
        sparks: e.sparks,
        usd: formatCents(BigInt(e.cents)),
        tier: e.tier,
        trace_ids: e.traceIds,
        stripe_object_id: e.stripeObjectId,
        stripe_invoice_id: e.stripeInvoiceId,
      })),
    };
  }

  async items(
    customerId: string,
    month: string,
    page: number,
    limit: number,
  ): Promise<{ total: number; items: ReportItemView[] }> {
    const [total, items] = await Promise.all([
      this.report.countItems(customerId, month),
      this.report.listItems(customerId, month, (page - 1) * limit, limit),
    ]);
    return { total, items: items.map(toItemView) };
  }

  /** Every item of the month, fetched in keyset batches so an export never holds it all. */
  async *allItems(customerId: string, month: string, batch = 1_000): AsyncGenerator<ReportItemView> {
    let after = 0;
    for (;;) {
      const rows = await this.report.itemsAfter(customerId, month, after, batch);
      for (const row of rows) yield toItemView(row);
      const last = rows[rows.length - 1];
      if (!last || rows.length < batch) return;
      after = last.id;
    }
  }
}
