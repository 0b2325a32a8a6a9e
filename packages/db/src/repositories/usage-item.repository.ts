import { type LedgerEntry, type LedgerEntryWrite, parseNanoSparks, type UsageItemStatus } from "@sparks/core";
import { type SQL, sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import { epochMs } from "./observation-staging.repository";
import { jsonParam, toDate, toNullableNumber, toNullableString, toNumber } from "./row-values.util";
import { textArrayParam } from "./text-array.param";

/** A usage item as the pipeline reasons about it (core's `LedgerEntry` plus send state); exact Sparks as nano-Sparks. */
export interface LedgerItem extends LedgerEntry {
  sentSparks: number;
  stripeIdentifier: string | null;
  attempts: number;
}

/** The fields ingest writes (insert or update); ids and send state are not among them. */
export type LedgerItemWrite = LedgerEntryWrite;

/** A billing group: what one push job sends, in order, under the exact rule. */
export interface UsageGroup {
  customerId: string;
  category: string;
  month: string;
}

export interface ItemAssignment {
  itemId: number;
  meterEventId: number;
  sentSparks: number;
  identifier: string;
}

/** A numeric(38,9) column's value (text; null = 0) → nano-Sparks, through core's one exact parser. */
export function exactTextToNano(value: unknown): bigint {
  return value === null || value === undefined ? 0n : parseNanoSparks(String(value));
}

const SELECT_COLUMNS =
  sql.raw(`id, trace_id, usage_category, quantity_revision, status, customer_id, customer_ref,
  month, occurred_at, quantity::text as quantity, unit, raw_value, exact_sparks::text as exact_sparks, sent_sparks,
  reason, meter_event_id, stripe_identifier, cost_center, tier, tier_hint, attempts`);

function toLedgerItem(r: Record<string, unknown>): LedgerItem {
  return {
    id: toNumber(r.id),
    traceId: String(r.trace_id),
    usageCategory: String(r.usage_category),
    quantityRevision: toNumber(r.quantity_revision),
    status: String(r.status) as UsageItemStatus,
    customerId: toNullableString(r.customer_id),
    customerRef: toNullableString(r.customer_ref),
    month: String(r.month),
    occurredAt: toDate(r.occurred_at),
    quantity: toNullableString(r.quantity),
    unit: toNullableString(r.unit),
    rawValue: r.raw_value,
    exactNano: exactTextToNano(r.exact_sparks),
    sentSparks: toNumber(r.sent_sparks),
    reason: toNullableString(r.reason),
    meterEventId: toNullableNumber(r.meter_event_id),
    stripeIdentifier: toNullableString(r.stripe_identifier),
    costCenter: String(r.cost_center),
    tier: toNullableString(r.tier),
    tierHint: toNullableString(r.tier_hint),
    attempts: toNumber(r.attempts),
  };
}

/**
 * The columns ingest writes, as one array parameter each (see `textArrayParam`; `occurred_at` as
 * epoch milliseconds, see `epochMs`), decoded by `unnest` in the same order as WRITE_COLUMNS. `id` is only used by updates.
 */
function writeArrays(rows: readonly LedgerItemWrite[], ids?: readonly number[]): SQL {
  const col = (pick: (r: LedgerItemWrite, i: number) => string | null) => textArrayParam(rows.map(pick));
  return sql`unnest(
    ${col((_, i) => (ids?.[i] === undefined ? null : String(ids[i])))}::bigint[],
    ${col((r) => r.traceId)}::text[], ${col((r) => r.usageCategory)}::text[],
    ${col((r) => String(r.quantityRevision))}::int[], ${col((r) => r.status)}::text[],
    ${col((r) => r.customerId)}::text[], ${col((r) => r.customerRef)}::text[], ${col((r) => r.month)}::text[],
    ${col((r) => epochMs(r.occurredAt))}::float8[], ${col((r) => r.quantity)}::numeric[],
    ${col((r) => r.unit)}::text[],
    ${col((r) => (r.rawValue === undefined ? null : JSON.stringify(r.rawValue)))}::jsonb[],
    ${col((r) => r.exactSparks)}::numeric[], ${col((r) => r.reason)}::text[], ${col((r) => r.costCenter)}::text[],
    ${col((r) => r.tier)}::text[], ${col((r) => r.tierHint)}::text[], ${col((r) => r.syncRunId)}::text[])`;
}

const WRITE_COLUMNS =
  sql.raw(`x(id, trace_id, usage_category, quantity_revision, status, customer_id, customer_ref, month,
  occurred_ms, quantity, unit, raw_value, exact_sparks, reason, cost_center, tier, tier_hint, sync_run_id)`);

/**
 * The `usage_items` ledger. Every write is one statement per batch; the row locks taken by
 * `lockByTraceIds` / `lockPendingOfGroup` (always in id order, so they cannot deadlock) keep
 * ingest and push from deciding on the same rows at once.
 */
export class UsageItemRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  /** All revisions of these traces' items, locked FOR UPDATE (call inside a transaction). */
  async lockByTraceIds(traceIds: readonly string[]): Promise<LedgerItem[]> {
    if (traceIds.length === 0) return [];
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select ${SELECT_COLUMNS} from usage_items
          where trace_id = any(${textArrayParam(traceIds)}::text[])
          order by id for update`,
    );
    return rows.map(toLedgerItem);
  }

  async findByIds(ids: readonly number[]): Promise<LedgerItem[]> {
    if (ids.length === 0) return [];
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select ${SELECT_COLUMNS} from usage_items
          where id in (select (jsonb_array_elements_text(${jsonParam(ids)}::jsonb))::bigint)
          order by id for update`,
    );
    return rows.map(toLedgerItem);
  }

  async insertMany(rows: readonly LedgerItemWrite[]): Promise<void> {
    if (rows.length === 0) return;
    await executeRows(
      this.db,
      sql`insert into usage_items (trace_id, usage_category, quantity_revision, status, customer_id, customer_ref,
            month, occurred_at, quantity, unit, raw_value, exact_sparks, reason, cost_center, tier, tier_hint, sync_run_id)
          select trace_id, usage_category, quantity_revision, status, customer_id, customer_ref, month,
            to_timestamp(occurred_ms / 1000), quantity, unit, raw_value, exact_sparks, reason, cost_center, tier, tier_hint, sync_run_id
          from ${writeArrays(rows)} as ${WRITE_COLUMNS}`,
    );
  }

  /** Rewrites unsent items in place (the latest Langfuse state wins before anything is sent). */
  async updateMany(updates: ReadonlyArray<{ id: number; row: LedgerItemWrite }>): Promise<void> {
    if (updates.length === 0) return;
    await executeRows(
      this.db,
      sql`update usage_items u set
            status = x.status, customer_id = x.customer_id, customer_ref = x.customer_ref, month = x.month,
            occurred_at = to_timestamp(x.occurred_ms / 1000), quantity = x.quantity, unit = x.unit, raw_value = x.raw_value,
            exact_sparks = x.exact_sparks, reason = x.reason, cost_center = x.cost_center, tier = x.tier,
            tier_hint = x.tier_hint, sync_run_id = coalesce(x.sync_run_id, u.sync_run_id), updated_at = now()
          from ${writeArrays(
            updates.map((u) => u.row),
            updates.map((u) => u.id),
          )} as ${WRITE_COLUMNS}
          where u.id = x.id and u.meter_event_id is null`,
    );
  }

  async deleteUnsent(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await executeRows(
      this.db,
      sql`delete from usage_items
          where id in (select (jsonb_array_elements_text(${jsonParam(ids)}::jsonb))::bigint)
            and meter_event_id is null and status in ('pending', 'quarantined', 'unbillable')`,
    );
  }

  /** Groups with work: pending items, items attached to a meter event not yet delivered, shrinks to give back. */
  async groupsWithWork(customerId?: string | null): Promise<UsageGroup[]> {
    const rows = await executeRows<{ customer_id: unknown; usage_category: unknown; month: unknown }>(
      this.db,
      sql`select distinct customer_id, usage_category, month from usage_items
          where (status in ('pending', 'sending') or (status = 'discrepancy' and corrected_at is null))
            and customer_id is not null
            ${customerId ? sql`and customer_id = ${customerId}` : sql``}
          order by customer_id, usage_category, month`,
    );
    return rows.map((r) => ({
      customerId: String(r.customer_id),
      category: String(r.usage_category),
      month: String(r.month),
    }));
  }

  async countPending(): Promise<number> {
    const rows = await executeRows<{ n: unknown }>(
      this.db,
      sql`select count(*) as n from usage_items where status = 'pending' and meter_event_id is null`,
    );
    return toNumber(rows[0]?.n ?? 0);
  }

  /** Pending, unattached items of a group, locked, oldest first by id (re-sorted by the caller). */
  async lockPendingOfGroup(group: UsageGroup, limit: number): Promise<LedgerItem[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select ${SELECT_COLUMNS} from usage_items
          where status = 'pending' and meter_event_id is null and customer_id = ${group.customerId}
            and usage_category = ${group.category} and month = ${group.month}
          order by id limit ${limit} for update`,
    );
    return rows.map(toLedgerItem);
  }

  /**
   * Exact total (nano) of the group's items already bound to a meter event, and of the shrinks
   * already given back (their negative deltas): what `alreadyAllocated` bills, unrounded.
   */
  async attachedExactNano(group: UsageGroup): Promise<bigint> {
    const rows = await executeRows<{ total: unknown }>(
      this.db,
      sql`select coalesce(sum(exact_sparks), 0)::text as total from usage_items
          where (meter_event_id is not null or (status = 'discrepancy' and corrected_at is not null))
            and customer_id = ${group.customerId}
            and usage_category = ${group.category} and month = ${group.month}`,
    );
    return exactTextToNano(rows[0]?.total ?? "0");
  }

  async assign(assignments: readonly ItemAssignment[]): Promise<void> {
    if (assignments.length === 0) return;
    const payload = jsonParam(
      assignments.map((a) => ({
        id: a.itemId,
        meter_event_id: a.meterEventId,
        sent_sparks: a.sentSparks,
        identifier: a.identifier,
      })),
    );
    await executeRows(
      this.db,
      sql`update usage_items u set meter_event_id = x.meter_event_id, sent_sparks = x.sent_sparks,
            stripe_identifier = x.identifier, status = 'sending', updated_at = now()
          from jsonb_to_recordset(${payload}::jsonb) as x(id bigint, meter_event_id bigint, sent_sparks bigint, identifier text)
          where u.id = x.id`,
    );
  }

  async markUnbillable(ids: readonly number[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    await executeRows(
      this.db,
      sql`update usage_items set status = 'unbillable', reason = ${reason}, updated_at = now()
          where id in (select (jsonb_array_elements_text(${jsonParam(ids)}::jsonb))::bigint)`,
    );
  }

  async markSentByMeterEvent(meterEventId: number): Promise<void> {
    await this.markSentByMeterEvents([meterEventId]);
  }

  async markSentByMeterEvents(meterEventIds: readonly number[]): Promise<void> {
    if (meterEventIds.length === 0) return;
    await executeRows(
      this.db,
      sql`update usage_items set status = 'sent', sent_at = now(), reason = null,
            attempts = attempts + 1, updated_at = now()
          where meter_event_id = any(${textArrayParam(meterEventIds.map(String))}::bigint[])`,
    );
  }

  /** Returns the ids of the items now failed (their `error_id`s). */
  async markFailedByMeterEvent(meterEventId: number, reason: string): Promise<number[]> {
    const rows = await executeRows<{ id: unknown }>(
      this.db,
      sql`update usage_items set status = 'failed', reason = ${reason}, attempts = attempts + 1, updated_at = now()
          where meter_event_id = ${meterEventId} returning id`,
    );
    return rows.map((r) => toNumber(r.id));
  }

  /** The failed items of one group that carry a meter event (what a re-run push resends). */
  async failedIdsOfGroup(group: UsageGroup): Promise<number[]> {
    const rows = await executeRows<{ id: unknown }>(
      this.db,
      sql`select id from usage_items
           where customer_id = ${group.customerId} and usage_category = ${group.category}
             and month = ${group.month} and status = 'failed' and meter_event_id is not null`,
    );
    return rows.map((r) => toNumber(r.id));
  }

  /** failed → sending again: the same meter event, so the same identifier and value. */
  async resendFailed(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await executeRows(
      this.db,
      sql`update usage_items set status = 'sending', reason = null, updated_at = now()
          where id in (select (jsonb_array_elements_text(${jsonParam(ids)}::jsonb))::bigint)
            and status = 'failed' and meter_event_id is not null`,
    );
  }

  /** Items an operator must look at: failed, quarantined and discrepancies. */
  async listErrors(limit: number): Promise<LedgerItem[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select ${SELECT_COLUMNS} from usage_items
          where status in ('failed', 'quarantined') or (status = 'discrepancy' and corrected_at is null)
          order by id limit ${limit}`,
    );
    return rows.map(toLedgerItem);
  }

  /** Item counts per status, for sync summaries and tests. */
  async countByStatus(): Promise<Record<string, number>> {
    const rows = await executeRows<{ status: unknown; n: unknown }>(
      this.db,
      sql`select status, count(*) as n from usage_items group by status`,
    );
    return Object.fromEntries(rows.map((r) => [String(r.status), toNumber(r.n)]));
  }

  /** Item ids by trace for a set of ids, used by retry to re-derive quarantined items. */
  async traceIdsOf(ids: readonly number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await executeRows<{ id: unknown; trace_id: unknown }>(
      this.db,
      sql`select id, trace_id from usage_items
          where id in (select (jsonb_array_elements_text(${jsonParam(ids)}::jsonb))::bigint)`,
    );
    return new Map(rows.map((r) => [toNumber(r.id), String(r.trace_id)]));
  }

  /** Current status of items (after a retry), by id. */
  async statusesOf(ids: readonly number[]): Promise<Map<number, UsageItemStatus>> {
    if (ids.length === 0) return new Map();
    const rows = await executeRows<{ id: unknown; status: unknown }>(
      this.db,
      sql`select id, status from usage_items
          where id in (select (jsonb_array_elements_text(${jsonParam(ids)}::jsonb))::bigint)`,
    );
    return new Map(rows.map((r) => [toNumber(r.id), String(r.status) as UsageItemStatus]));
  }
}
