import { billedStatusesSqlList } from "@sparks/core";
import { sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import type { MonthCloseStatus } from "../schema/month-closes.schema";
import type { UsageItemStatus } from "../schema/usage-items.schema";
import { toDate, toNullableString, toNumber } from "./row-values.util";
import { exactTextToNano } from "./usage-item.repository";

/**
 * Statuses whose Sparks are the customer's usage: sent or on their way to Stripe, failed
 * (owed but not delivered) and discrepancies (negative corrections Stripe could not take).
 * Quarantined and unbillable items are listed but never counted.
 */
const COUNTED = sql.raw(billedStatusesSqlList());

export interface CategoryTotal {
  category: string;
  unit: string | null;
  /** Exact quantity as a plain decimal string. */
  quantity: string;
  exactNano: bigint;
  items: number;
}

/** Exact Sparks of one category on one UTC day. */
export interface DailyCategoryTotal {
  /** UTC calendar day, YYYY-MM-DD. */
  day: string;
  category: string;
  exactNano: bigint;
  items: number;
}

export interface CostCenterTotal {
  costCenter: string;
  exactNano: bigint;
  items: number;
}

export interface ReportItem {
  id: number;
  traceId: string;
  category: string;
  quantityRevision: number;
  occurredAt: Date;
  quantity: string | null;
  unit: string | null;
  exactNano: bigint;
  sentSparks: number;
  status: UsageItemStatus;
  meterEventIdentifier: string | null;
  costCenter: string;
  tier: string | null;
  reason: string | null;
}

/** What the ledger says about one customer over an invoice period, per category. */
export interface PeriodLedger {
  /** Whole Sparks of meter events Stripe acknowledged, by event timestamp in the period. */
  sentByCategory: Map<string, bigint>;
  /** Exact Sparks of counted items in the period, all categories. */
  exactNano: bigint;
  /** Items not yet delivered (pending or sending) in the period. */
  unsentItems: number;
  /** Items whose delivery failed for good in the period. */
  failedItems: number;
}

function toReportItem(r: Record<string, unknown>): ReportItem {
  return {
    id: toNumber(r.id),
    traceId: String(r.trace_id),
    category: String(r.usage_category),
    quantityRevision: toNumber(r.quantity_revision),
    occurredAt: toDate(r.occurred_at),
    quantity: toNullableString(r.quantity),
    unit: toNullableString(r.unit),
    exactNano: exactTextToNano(r.exact_sparks),
    sentSparks: toNumber(r.sent_sparks),
    status: String(r.status) as UsageItemStatus,
    meterEventIdentifier: toNullableString(r.meter_identifier ?? r.stripe_identifier),
    costCenter: String(r.cost_center),
    tier: toNullableString(r.tier),
    reason: toNullableString(r.reason),
  };
}

const ITEM_COLUMNS = sql.raw(`u.id, u.trace_id, u.usage_category, u.quantity_revision, u.occurred_at,
  u.quantity::text as quantity, u.unit, u.exact_sparks::text as exact_sparks, u.sent_sparks, u.status,
  u.stripe_identifier, m.identifier as meter_identifier, u.cost_center, u.tier, u.reason`);

/** Read-only queries behind `GET /usage/report` and the invoice check of the webhook worker. */
export class UsageReportRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  async categoryTotals(customerId: string, month: string): Promise<CategoryTotal[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select usage_category, max(unit) as unit, coalesce(sum(quantity), 0)::text as quantity,
            coalesce(sum(exact_sparks), 0)::text as exact, count(*) as items
          from usage_items
          where customer_id = ${customerId} and month = ${month} and status in ${COUNTED}
          group by usage_category order by usage_category`,
    );
    return rows.map((r) => ({
      category: String(r.usage_category),
      unit: toNullableString(r.unit),
      quantity: String(r.quantity),
      exactNano: exactTextToNano(r.exact),
      items: toNumber(r.items),
    }));
  }

  /** Counted Sparks per UTC day and category (days without usage are absent), for the usage chart. */
  async dailyTotals(customerId: string, month: string): Promise<DailyCategoryTotal[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD') as day, usage_category,
            coalesce(sum(exact_sparks), 0)::text as exact, count(*) as items
          from usage_items
          where customer_id = ${customerId} and month = ${month} and status in ${COUNTED}
          group by 1, 2 order by 1, 2`,
    );
    return rows.map((r) => ({
      day: String(r.day),
      category: String(r.usage_category),
      exactNano: exactTextToNano(r.exact),
      items: toNumber(r.items),
    }));
  }

  /** Whole Sparks Stripe acknowledged for the month, per category (the meter-event ledger). */
  async sentByCategory(customerId: string, month: string): Promise<Map<string, bigint>> {
    const rows = await executeRows<{ usage_category: unknown; total: unknown }>(
      this.db,
      sql`select usage_category, coalesce(sum(value), 0)::text as total from meter_events
          where customer_id = ${customerId} and month = ${month} and status = 'sent'
          group by usage_category`,
    );
    return new Map(rows.map((r) => [String(r.usage_category), BigInt(String(r.total))]));
  }

  async costCenterTotals(customerId: string, month: string): Promise<CostCenterTotal[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select cost_center, coalesce(sum(exact_sparks), 0)::text as exact, count(*) as items
          from usage_items
          where customer_id = ${customerId} and month = ${month} and status in ${COUNTED}
          group by cost_center order by cost_center`,
    );
    return rows.map((r) => ({
      costCenter: String(r.cost_center),
      exactNano: exactTextToNano(r.exact),
      items: toNumber(r.items),
    }));
  }

  /** Exact Sparks of counted items that occurred in [from, to). */
  async exactBetween(customerId: string, from: Date, to: Date): Promise<bigint> {
    const rows = await executeRows<{ total: unknown }>(
      this.db,
      sql`select coalesce(sum(exact_sparks), 0)::text as total from usage_items
          where customer_id = ${customerId} and status in ${COUNTED}
            and occurred_at >= ${from.toISOString()}::timestamptz and occurred_at < ${to.toISOString()}::timestamptz`,
    );
    return exactTextToNano(rows[0]?.total ?? "0");
  }

  async statusCounts(customerId: string, month: string): Promise<Record<string, number>> {
    const rows = await executeRows<{ status: unknown; n: unknown }>(
      this.db,
      sql`select status, count(*) as n from usage_items
          where customer_id = ${customerId} and month = ${month} group by status`,
    );
    return Object.fromEntries(rows.map((r) => [String(r.status), toNumber(r.n)]));
  }

  async countItems(customerId: string, month: string): Promise<number> {
    const rows = await executeRows<{ n: unknown }>(
      this.db,
      sql`select count(*) as n from usage_items where customer_id = ${customerId} and month = ${month}`,
    );
    return toNumber(rows[0]?.n ?? 0);
  }

  /** One page of the month's ledger items (every status), in id order. */
  async listItems(customerId: string, month: string, offset: number, limit: number): Promise<ReportItem[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select ${ITEM_COLUMNS} from usage_items u left join meter_events m on m.id = u.meter_event_id
          where u.customer_id = ${customerId} and u.month = ${month}
          order by u.id offset ${offset} limit ${limit}`,
    );
    return rows.map(toReportItem);
  }

  /** Keyset page (items with id > afterId), for streaming exports without OFFSET scans. */
  async itemsAfter(customerId: string, month: string, afterId: number, limit: number): Promise<ReportItem[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select ${ITEM_COLUMNS} from usage_items u left join meter_events m on m.id = u.meter_event_id
          where u.customer_id = ${customerId} and u.month = ${month} and u.id > ${afterId}
          order by u.id limit ${limit}`,
    );
    return rows.map(toReportItem);
  }

  async monthStatus(month: string): Promise<MonthCloseStatus> {
    const rows = await executeRows<{ status: unknown }>(
      this.db,
      sql`select status from month_closes where month = ${month}`,
    );
    const status = rows[0]?.status;
    return status === undefined ? "open" : (String(status) as MonthCloseStatus);
  }

  /**
   * Whole Sparks Stripe acknowledged per category for meter events timed in [from, to): what
   * one metered invoice line (one price, one tier segment) bills.
   */
  async sentBetween(customerId: string, from: Date, to: Date): Promise<Map<string, bigint>> {
    const rows = await executeRows<{ usage_category: unknown; total: unknown }>(
      this.db,
      sql`select usage_category, coalesce(sum(value), 0)::text as total from meter_events
          where customer_id = ${customerId} and status = 'sent'
            and event_timestamp >= ${from.toISOString()}::timestamptz and event_timestamp < ${to.toISOString()}::timestamptz
          group by usage_category`,
    );
    return new Map(rows.map((r) => [String(r.usage_category), BigInt(String(r.total))]));
  }

  /** Late lines filed into `month` from earlier months: exact Sparks per original month. */
  async lateInto(
    customerId: string,
    month: string,
  ): Promise<Array<{ fromMonth: string; exactNano: bigint; items: number }>> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select to_char(late_from at time zone 'UTC', 'YYYY-MM') as from_month,
            coalesce(sum(exact_sparks), 0)::text as exact, count(*) as items
          from usage_items
          where customer_id = ${customerId} and month = ${month} and late_from is not null and status in ${COUNTED}
          group by 1 order by 1`,
    );
    return rows.map((r) => ({
      fromMonth: String(r.from_month),
      exactNano: exactTextToNano(r.exact),
      items: toNumber(r.items),
    }));
  }

  /** Usage that happened in `month` but was billed later (re-filed after the month closed). */
  async billedLateFrom(
    customerId: string,
    month: string,
  ): Promise<Array<{ billedIn: string; exactNano: bigint; items: number }>> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select month as billed_in, coalesce(sum(exact_sparks), 0)::text as exact, count(*) as items
          from usage_items
          where customer_id = ${customerId} and late_from is not null
            and to_char(late_from at time zone 'UTC', 'YYYY-MM') = ${month}
            and status in ${COUNTED}
          group by month order by month`,
    );
    return rows.map((r) => ({
      billedIn: String(r.billed_in),
      exactNano: exactTextToNano(r.exact),
      items: toNumber(r.items),
    }));
  }

  /** The ledger side of an invoice check, over [from, to) by trace / event time. */
  async periodLedger(customerId: string, from: Date, to: Date): Promise<PeriodLedger> {
    const fromText = from.toISOString();
    const toText = to.toISOString();
    const sent = await executeRows<{ usage_category: unknown; total: unknown }>(
      this.db,
      sql`select usage_category, coalesce(sum(value), 0)::text as total from meter_events
          where customer_id = ${customerId} and status = 'sent'
            and event_timestamp >= ${fromText}::timestamptz and event_timestamp < ${toText}::timestamptz
          group by usage_category`,
    );
    const items = await executeRows<{ exact: unknown; unsent: unknown; failed: unknown }>(
      this.db,
      sql`select coalesce(sum(exact_sparks) filter (where status in ${COUNTED}), 0)::text as exact,
            count(*) filter (where status in ('pending', 'sending')) as unsent,
            count(*) filter (where status = 'failed') as failed
          from usage_items
          where customer_id = ${customerId}
            and occurred_at >= ${fromText}::timestamptz and occurred_at < ${toText}::timestamptz`,
    );
    const row = items[0];
    return {
      sentByCategory: new Map(sent.map((r) => [String(r.usage_category), BigInt(String(r.total))])),
      exactNano: exactTextToNano(row?.exact ?? "0"),
      unsentItems: toNumber(row?.unsent ?? 0),
      failedItems: toNumber(row?.failed ?? 0),
    };
  }
}
