import { billedStatusesSqlList } from "@sparks/core";
import { sql } from "drizzle-orm";
import type { Database, SparksDb } from "../database.types";
import { executeRows } from "../execute-rows";
import { exactTextToNano } from "./usage-item.repository";

/**
 * The monthly report's one-statement snapshot (moved here from apps/api so SQL lives in
 * packages/db). Statuses whose Sparks are the customer's usage (as in UsageReportRepository): sent or on
 * their way to Stripe, failed, and discrepancies. Quarantined and unbillable are not counted.
 */
const COUNTED = billedStatusesSqlList();

export interface ReportCustomer {
  tier: string;
  status: string;
  pauseReason: string | null;
  customQuota: number | null;
  negotiatedRate: string | null;
}

export interface ReportSnapshot {
  /** null when there is no such customer. */
  customer: ReportCustomer | null;
  monthStatus: string;
  history: Array<{ tier: string; from: Date; to: Date | null; rate: string | null }>;
  categories: Array<{
    category: string;
    unit: string | null;
    quantity: string;
    exactNano: bigint;
    items: number;
  }>;
  sentByCategory: Map<string, bigint>;
  costCenters: Array<{ costCenter: string; exactNano: bigint; items: number }>;
  statusCounts: Record<string, number>;
  daily: Array<{ day: string; category: string; exactNano: bigint; items: number }>;
  /**
   * Counted Sparks by occurrence time in the month, per interval between consecutive
   * boundaries (month start, each tier change inside the month, month end), keyed by the
   * interval's start in ms. Every tier segment of the month starts and ends on such a
   * boundary, so a segment's Sparks are the sum of the intervals it covers.
   */
  intervalNano: Map<number, bigint>;
}

interface SnapshotRow extends Record<string, unknown> {
  customer: unknown;
  month_status: unknown;
  history: unknown;
  categories: unknown;
  sent: unknown;
  cost_centers: unknown;
  status_counts: unknown;
  daily: unknown;
  intervals: unknown;
}

/** postgres-js parses json columns, PGlite may hand back text: accept both. */
function json(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}

function list(value: unknown): Array<Record<string, unknown>> {
  const parsed = json(value);
  return Array.isArray(parsed) ? (parsed as Array<Record<string, unknown>>) : [];
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/**
 * Everything `GET /usage/report` needs of one customer and month in one statement: one round
 * trip instead of ten, one scan of the month's items (the `items` CTE, materialised once and
 * aggregated four ways), and one consistent snapshot, so the totals, the categories, the days
 * and the segments can no longer disagree because an item landed between two queries. The
 * aggregates are the ones of UsageReportRepository, unchanged; nothing is cached, so the
 * report is always current.
 *
 * Tier boundaries are truncated to milliseconds, as the JS Dates the segments are built from
 * (and that the per-segment query used to bind) are.
 *
 * $1 customer id, $2 month (YYYY-MM), $3 and $4 the month's [start, end) as ISO timestamps.
 */
const REPORT_SQL = `with items as materialized (
    select usage_category, unit, quantity, exact_sparks, status, cost_center, occurred_at
    from usage_items where customer_id = $1 and month = $2
  ),
  counted as (select * from items where status in ${COUNTED}),
  bounds as (
    select array(
      select b from (
        select $3::timestamptz as b
        union select $4::timestamptz
        union select date_trunc('milliseconds', effective_from) from tier_history
          where customer_id = $1 and effective_from > $3::timestamptz and effective_from < $4::timestamptz
      ) x order by b
    ) as b
  )
  select
    (select json_build_object('tier', tier, 'status', status, 'pause_reason', pause_reason,
              'custom_quota', custom_quota, 'negotiated_rate', negotiated_rate::text)
       from customers where id = $1) as customer,
    (select status from month_closes where month = $2) as month_status,
    (select coalesce(json_agg(json_build_object('tier', tier, 'from', effective_from, 'to', effective_to, 'rate', rate::text)
              order by effective_from, id), '[]'::json)
       from tier_history where customer_id = $1) as history,
    (select coalesce(json_agg(x order by x.usage_category), '[]'::json) from (
       select usage_category, max(unit) as unit, coalesce(sum(quantity), 0)::text as quantity,
         coalesce(sum(exact_sparks), 0)::text as exact, count(*) as items
       from counted group by usage_category) x) as categories,
    (select coalesce(json_agg(x), '[]'::json) from (
       select usage_category, coalesce(sum(value), 0)::text as total from meter_events
       where customer_id = $1 and month = $2 and status = 'sent'
       group by usage_category) x) as sent,
    (select coalesce(json_agg(x order by x.cost_center), '[]'::json) from (
       select cost_center, coalesce(sum(exact_sparks), 0)::text as exact, count(*) as items
       from counted group by cost_center) x) as cost_centers,
    (select coalesce(json_agg(x), '[]'::json) from (
       select status, count(*) as n from items group by status) x) as status_counts,
    (select coalesce(json_agg(x order by x.day, x.usage_category), '[]'::json) from (
       select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD') as day, usage_category,
         coalesce(sum(exact_sparks), 0)::text as exact, count(*) as items
       from counted group by 1, 2) x) as daily,
    (select coalesce(json_agg(x), '[]'::json) from (
       select (extract(epoch from bounds.b[width_bucket(u.occurred_at, bounds.b)]) * 1000)::bigint::text
           as from_ms,
         coalesce(sum(u.exact_sparks), 0)::text as exact
       from usage_items u cross join bounds
       where u.customer_id = $1 and u.status in ${COUNTED}
         and u.occurred_at >= $3::timestamptz and u.occurred_at < $4::timestamptz
       group by 1) x) as intervals`;

/** A composed database (prepared statements possible) rather than a bare drizzle handle. */
export function isDatabase(source: SparksDb | Database): source is Database {
  return "kind" in source && "ping" in source && "db" in source;
}

/** REPORT_SQL with its `$n` placeholders bound the drizzle way, for a bare drizzle handle. */
function boundForDrizzle(params: readonly string[]) {
  const parts = REPORT_SQL.split(/\$(\d)/);
  return sql.join(parts.map((part, i) => (i % 2 === 0 ? sql.raw(part) : sql`${params[Number(part) - 1]}`)));
}

async function reportRows(source: SparksDb | Database, params: string[]): Promise<SnapshotRow[]> {
  if (!isDatabase(source)) return executeRows<SnapshotRow>(source, boundForDrizzle(params));
  // A prepared statement on Postgres: this is the API's most frequent query, and planning its
  // ten subqueries costs the server more than running them (about 1 ms against 0.3 ms).
  if (source.kind === "postgres")
    return [...(await source.client.unsafe<SnapshotRow[]>(REPORT_SQL, params, { prepare: true }))];
  return (await source.client.query<SnapshotRow>(REPORT_SQL, params)).rows;
}

export async function readReportSnapshot(
  source: SparksDb | Database,
  customerId: string,
  month: string,
  range: { start: Date; end: Date },
): Promise<ReportSnapshot> {
  const rows = await reportRows(source, [
    customerId,
    month,
    range.start.toISOString(),
    range.end.toISOString(),
  ]);
  const row = rows[0];
  if (!row) throw new Error("the usage report query returned no row");

  const c = json(row.customer) as Record<string, unknown> | null;
  return {
    customer:
      c === null || c === undefined
        ? null
        : {
            tier: String(c.tier),
            status: String(c.status),
            pauseReason: text(c.pause_reason),
            customQuota:
              c.custom_quota === null || c.custom_quota === undefined ? null : Number(c.custom_quota),
            negotiatedRate: text(c.negotiated_rate),
          },
    monthStatus: text(row.month_status) ?? "open",
    history: list(row.history).map((h) => ({
      tier: String(h.tier),
      from: new Date(String(h.from)),
      to: h.to === null || h.to === undefined ? null : new Date(String(h.to)),
      rate: text(h.rate),
    })),
    categories: list(row.categories).map((r) => ({
      category: String(r.usage_category),
      unit: text(r.unit),
      quantity: String(r.quantity),
      exactNano: exactTextToNano(r.exact),
      items: Number(r.items),
    })),
    sentByCategory: new Map(list(row.sent).map((r) => [String(r.usage_category), BigInt(String(r.total))])),
    costCenters: list(row.cost_centers).map((r) => ({
      costCenter: String(r.cost_center),
      exactNano: exactTextToNano(r.exact),
      items: Number(r.items),
    })),
    statusCounts: Object.fromEntries(list(row.status_counts).map((r) => [String(r.status), Number(r.n)])),
    daily: list(row.daily).map((r) => ({
      day: String(r.day),
      category: String(r.usage_category),
      exactNano: exactTextToNano(r.exact),
      items: Number(r.items),
    })),
    intervalNano: new Map(list(row.intervals).map((r) => [Number(r.from_ms), exactTextToNano(r.exact)])),
  };
}

/** Sparks of [from, to) from the snapshot's intervals (both ends are interval boundaries). */
export function sparksBetween(snapshot: ReportSnapshot, from: Date, to: Date): bigint {
  let total = 0n;
  for (const [startMs, nano] of snapshot.intervalNano) {
    if (startMs >= from.getTime() && startMs < to.getTime()) total += nano;
  }
  return total;
}
