import { sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import type { CorrectionKind, CorrectionStatus } from "../schema/usage-corrections.schema";
import { jsonParam, toDate, toNullableNumber, toNullableString, toNumber } from "./row-values.util";
import { textArrayParam } from "./text-array.param";
import { exactTextToNano, type UsageGroup } from "./usage-item.repository";

export interface CorrectionWrite {
  key: string;
  customerId: string;
  usageCategory: string;
  month: string;
  kind: CorrectionKind;
  sparks: number;
  cents: number;
  tier: string | null;
  traceIds: readonly string[];
  itemIds: readonly number[];
  cancelledMeterEventId: number | null;
  resendValue: number | null;
  replacementIdentifier: string | null;
  stripeInvoiceId: string | null;
}

export interface StoredCorrection extends CorrectionWrite {
  id: number;
  status: CorrectionStatus;
  stripeObjectId: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  appliedAt: Date | null;
}

/** A discrepancy (shrink) row still owed back, with what it needs to be decided. */
export interface OpenShrink {
  id: number;
  traceId: string;
  tier: string | null;
  occurredAt: Date;
  exactNano: bigint;
}

/** A sent meter event carrying usage of a shrunk trace. */
export interface ShrinkEvent {
  id: number;
  identifier: string;
  eventName: string;
  value: number;
  sentAt: Date | null;
  eventTimestamp: Date;
}

/** Credited Sparks and cents of a group, per price segment (tier). */
export interface SegmentCredit {
  tier: string | null;
  sparks: bigint;
  cents: bigint;
}

/** Corrections of one customer-month, for the report. */
export interface MonthCorrection {
  usageCategory: string;
  kind: CorrectionKind;
  status: CorrectionStatus;
  sparks: number;
  cents: number;
  tier: string | null;
  traceIds: string[];
  stripeObjectId: string | null;
  stripeInvoiceId: string | null;
}

function toArray(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === "string") {
    const inner = value.replace(/^\{|\}$/g, "");
    return inner === "" ? [] : inner.split(",").map((s) => s.replace(/^"|"$/g, ""));
  }
  return [];
}

function toStored(r: Record<string, unknown>): StoredCorrection {
  return {
    id: toNumber(r.id),
    key: String(r.key),
    customerId: String(r.customer_id),
    usageCategory: String(r.usage_category),
    month: String(r.month),
    kind: String(r.kind) as CorrectionKind,
    status: String(r.status) as CorrectionStatus,
    sparks: toNumber(r.sparks),
    cents: toNumber(r.cents),
    tier: toNullableString(r.tier),
    traceIds: toArray(r.trace_ids),
    itemIds: toArray(r.item_ids).map(Number),
    cancelledMeterEventId: toNullableNumber(r.cancelled_meter_event_id),
    resendValue: toNullableNumber(r.resend_value),
    replacementIdentifier: toNullableString(r.replacement_identifier),
    stripeInvoiceId: toNullableString(r.stripe_invoice_id),
    stripeObjectId: toNullableString(r.stripe_object_id),
    attempts: toNumber(r.attempts),
    lastError: toNullableString(r.last_error),
    createdAt: toDate(r.created_at),
    appliedAt: r.applied_at === null || r.applied_at === undefined ? null : toDate(r.applied_at),
  };
}

const CREDIT_KINDS = sql.raw(`('invoice_credit', 'credit_note')`);

/**
 * `usage_corrections` and the discrepancy rows they give back. A correction is stored (pending)
 * before its Stripe call and marked done after; the discrepancy rows it covers are marked
 * `corrected_at` in the same transaction that stores it, so they are decided exactly once.
 */
export class UsageCorrectionRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  /** Discrepancy rows of the group not yet given back, locked, oldest first. */
  async lockOpenShrinks(group: UsageGroup): Promise<OpenShrink[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select id, trace_id, tier, occurred_at, exact_sparks::text as exact_sparks from usage_items
          where status = 'discrepancy' and corrected_at is null and customer_id = ${group.customerId}
            and usage_category = ${group.category} and month = ${group.month}
          order by occurred_at, id for update`,
    );
    return rows.map((r) => ({
      id: toNumber(r.id),
      traceId: String(r.trace_id),
      tier: toNullableString(r.tier),
      occurredAt: toDate(r.occurred_at),
      exactNano: exactTextToNano(r.exact_sparks),
    }));
  }

  /** Groups with a shrink still owed back (a push job for them gives it back). */
  async groupsWithOpenShrinks(customerId?: string | null): Promise<UsageGroup[]> {
    const rows = await executeRows<{ customer_id: unknown; usage_category: unknown; month: unknown }>(
      this.db,
      sql`select distinct customer_id, usage_category, month from usage_items
          where status = 'discrepancy' and corrected_at is null and customer_id is not null
            ${customerId ? sql`and customer_id = ${customerId}` : sql``}
          union
          select distinct customer_id, usage_category, month from usage_corrections
          where status = 'pending' ${customerId ? sql`and customer_id = ${customerId}` : sql``}
          order by 1, 2, 3`,
    );
    return rows.map((r) => ({
      customerId: String(r.customer_id),
      category: String(r.usage_category),
      month: String(r.month),
    }));
  }

  /** Sent meter events behind these traces' items in the group (candidates for a cancel). */
  async sentEventsOfTraces(group: UsageGroup, traceIds: readonly string[]): Promise<ShrinkEvent[]> {
    if (traceIds.length === 0) return [];
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select distinct m.id, m.identifier, m.event_name, m.value, m.sent_at, m.event_timestamp
          from meter_events m join usage_items u on u.meter_event_id = m.id
          where m.status = 'sent' and u.trace_id = any(${textArrayParam(traceIds)}::text[])
            and m.customer_id = ${group.customerId} and m.usage_category = ${group.category}
            and m.month = ${group.month}
          order by m.id`,
    );
    return rows.map((r) => ({
      id: toNumber(r.id),
      identifier: String(r.identifier),
      eventName: String(r.event_name),
      value: toNumber(r.value),
      sentAt: r.sent_at === null || r.sent_at === undefined ? null : toDate(r.sent_at),
      eventTimestamp: toDate(r.event_timestamp),
    }));
  }

  /** Whole Sparks of the group's sent (non-cancelled) events per tier segment of their items. */
  async billedSparksByTier(group: UsageGroup): Promise<Map<string | null, bigint>> {
    const rows = await executeRows<{ tier: unknown; sparks: unknown }>(
      this.db,
      sql`select u.tier, coalesce(sum(u.sent_sparks), 0)::text as sparks
          from usage_items u join meter_events m on m.id = u.meter_event_id
          where m.status = 'sent' and u.customer_id = ${group.customerId}
            and u.usage_category = ${group.category} and u.month = ${group.month}
          group by u.tier`,
    );
    return new Map(rows.map((r) => [toNullableString(r.tier), BigInt(String(r.sparks))]));
  }

  /** Credits (not cancels) of the group per tier, whatever their state but failed. */
  async creditsByTier(group: UsageGroup): Promise<SegmentCredit[]> {
    const rows = await executeRows<{ tier: unknown; sparks: unknown; cents: unknown }>(
      this.db,
      sql`select tier, coalesce(sum(sparks), 0)::text as sparks, coalesce(sum(cents), 0)::text as cents
          from usage_corrections
          where kind in ${CREDIT_KINDS} and status <> 'failed' and customer_id = ${group.customerId}
            and usage_category = ${group.category} and month = ${group.month}
          group by tier`,
    );
    return rows.map((r) => ({
      tier: toNullableString(r.tier),
      sparks: BigInt(String(r.sparks)),
      cents: BigInt(String(r.cents)),
    }));
  }

  /** Inserts (a replay of the same key changes nothing); returns the stored row. */
  async insert(row: CorrectionWrite): Promise<StoredCorrection> {
    const inserted = await executeRows<Record<string, unknown>>(
      this.db,
      sql`insert into usage_corrections (key, customer_id, usage_category, month, kind, sparks, cents, tier,
            trace_ids, item_ids, cancelled_meter_event_id, resend_value, replacement_identifier, stripe_invoice_id)
          values (${row.key}, ${row.customerId}, ${row.usageCategory}, ${row.month}, ${row.kind}, ${row.sparks},
            ${row.cents}, ${row.tier}, ${textArrayParam(row.traceIds)}::text[],
            ${textArrayParam(row.itemIds.map(String))}::bigint[], ${row.cancelledMeterEventId},
            ${row.resendValue}, ${row.replacementIdentifier}, ${row.stripeInvoiceId})
          on conflict (key) do update set key = excluded.key
          returning *`,
    );
    return toStored(inserted[0] as Record<string, unknown>);
  }

  /** How many corrections were decided under this key prefix (a re-decision's round number). */
  async countWithKeyPrefix(prefix: string): Promise<number> {
    const rows = await executeRows<{ n: unknown }>(
      this.db,
      sql`select count(distinct split_part(split_part(key, '/', 2), '-', 1)) as n from usage_corrections
          where key like ${`${prefix}/%`}`,
    );
    return toNumber(rows[0]?.n ?? 0);
  }

  async markItemsCorrected(itemIds: readonly number[], at: Date): Promise<void> {
    if (itemIds.length === 0) return;
    await executeRows(
      this.db,
      sql`update usage_items set corrected_at = ${at.toISOString()}::timestamptz, updated_at = now()
          where id in (select (jsonb_array_elements_text(${jsonParam(itemIds)}::jsonb))::bigint)
            and status = 'discrepancy'`,
    );
  }

  /**
   * The items of a cancelled event now ride on its replacement (same trace ids, Sparks shares
   * unchanged; the shrink's own negative row is what the lower value reflects), to be sent.
   */
  async repointItems(fromEventId: number, toEventId: number, identifier: string): Promise<void> {
    await executeRows(
      this.db,
      sql`update usage_items set meter_event_id = ${toEventId}, stripe_identifier = ${identifier},
            status = 'sending', updated_at = now()
          where meter_event_id = ${fromEventId}`,
    );
  }

  /** A correction that failed for good re-opens its shrinks, to be decided again (e.g. as a credit). */
  async reopenItems(itemIds: readonly number[]): Promise<void> {
    if (itemIds.length === 0) return;
    await executeRows(
      this.db,
      sql`update usage_items set corrected_at = null, updated_at = now()
          where id in (select (jsonb_array_elements_text(${jsonParam(itemIds)}::jsonb))::bigint)`,
    );
  }

  async pendingOfGroup(group: UsageGroup): Promise<StoredCorrection[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select * from usage_corrections
          where status = 'pending' and customer_id = ${group.customerId}
            and usage_category = ${group.category} and month = ${group.month}
          order by id`,
    );
    return rows.map(toStored);
  }

  async markDone(id: number, stripeObjectId: string | null, at: Date): Promise<void> {
    await executeRows(
      this.db,
      sql`update usage_corrections set status = 'done', stripe_object_id = ${stripeObjectId},
            applied_at = ${at.toISOString()}::timestamptz, attempts = attempts + 1, last_error = null
          where id = ${id}`,
    );
  }

  async recordError(id: number, error: string, failed: boolean): Promise<void> {
    await executeRows(
      this.db,
      sql`update usage_corrections set attempts = attempts + 1, last_error = ${error},
            status = ${failed ? "failed" : "pending"}
          where id = ${id}`,
    );
  }

  /**
   * Whole Sparks Stripe bills a customer-month per tier: the values of its sent (not
   * cancelled) events, each under its items' tier (an event never spans two price segments).
   */
  async billedSparksOfMonth(customerId: string, month: string): Promise<Map<string | null, bigint>> {
    const rows = await executeRows<{ tier: unknown; sparks: unknown }>(
      this.db,
      sql`select (select u.tier from usage_items u where u.meter_event_id = m.id limit 1) as tier,
                 coalesce(sum(m.value), 0)::text as sparks
          from meter_events m
          where m.customer_id = ${customerId} and m.month = ${month} and m.status = 'sent'
          group by 1`,
    );
    return new Map(rows.map((r) => [toNullableString(r.tier), BigInt(String(r.sparks))]));
  }

  /**
   * Cents credited on the month's invoice itself by negative invoice items (done, not failed):
   * what the month close must take off the ledger's expected draft total. Credit notes come
   * after finalization and are not on the draft.
   */
  async invoiceCreditCentsOfMonth(customerId: string, month: string): Promise<bigint> {
    const rows = await executeRows<{ cents: unknown }>(
      this.db,
      sql`select coalesce(sum(cents), 0)::text as cents from usage_corrections
          where customer_id = ${customerId} and month = ${month} and kind = 'invoice_credit'
            and status = 'done'`,
    );
    return BigInt(String(rows[0]?.cents ?? "0"));
  }

  /** Shrinks of a customer-month not yet given back (a push job will). */
  async openShrinkCount(customerId: string, month: string): Promise<number> {
    const rows = await executeRows<{ n: unknown }>(
      this.db,
      sql`select (select count(*) from usage_items where customer_id = ${customerId} and month = ${month}
                    and status = 'discrepancy' and corrected_at is null)
               + (select count(*) from usage_corrections where customer_id = ${customerId}
                    and month = ${month} and status = 'pending') as n`,
    );
    return toNumber(rows[0]?.n ?? 0);
  }

  /** Every correction of a customer-month (all categories), oldest first. */
  async ofMonth(customerId: string, month: string): Promise<MonthCorrection[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select * from usage_corrections where customer_id = ${customerId} and month = ${month} order by id`,
    );
    return rows.map(toStored).map((c) => ({
      usageCategory: c.usageCategory,
      kind: c.kind,
      status: c.status,
      sparks: c.sparks,
      cents: c.cents,
      tier: c.tier,
      traceIds: [...c.traceIds],
      stripeObjectId: c.stripeObjectId,
      stripeInvoiceId: c.stripeInvoiceId,
    }));
  }
}
