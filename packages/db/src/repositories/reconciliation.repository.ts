import { billedStatusesSqlList } from "@sparks/core";
import { sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import { jsonParam, toBigInt, toDate, toNullableString, toNumber } from "./row-values.util";
import { exactTextToNano } from "./usage-item.repository";

/** Operation names of the audit rows reconciliation writes (besides the sender's own rows). */
export const RECONCILE_REPAIR_OPERATION = "reconcile.resend";
export const RECONCILE_CANCEL_OPERATION = "billing.meter_event_adjustments.create";
/** The senders' operation names (see @sparks/stripe METER_EVENT_OPERATION, METER_EVENT_STREAM_OPERATION). */
const METER_EVENT_OPERATION = "billing.meter_events.create";
const METER_EVENT_STREAM_OPERATION = "v2.billing.meter_event_stream.create";

/** The reason prefix the late-usage trigger (migrations 0002/0003) writes on late lines. */
export const LATE_REASON_PREFIX = "late usage from ";

export interface LedgerGroupTotal {
  customerId: string;
  category: string;
  exactNano: bigint;
}

export interface BilledGroupTotal extends LedgerGroupTotal {
  stripeCustomerId: string | null;
  /** Whole Sparks of the month's meter events Stripe acknowledged. */
  sentSparks: bigint;
  /** Exact Sparks of late lines of earlier months billed in this one. */
  lateNano: bigint;
}

export interface SentMeterEvent {
  id: number;
  identifier: string;
  eventName: string;
  stripeCustomerId: string;
  value: number;
  eventTimestamp: Date;
  sentAt: Date | null;
}

export interface AuditedSend {
  identifier: string;
  /** Unix seconds, as sent. */
  timestamp: number;
  value: number;
  at: Date;
}

export interface RepairAudit {
  operation: string;
  identifier: string;
  meterEventId: number | null;
  request: unknown;
  response: unknown;
  statusCode: number | null;
  error: string | null;
}

const BILLED_STATUSES = sql.raw(billedStatusesSqlList());

/** Reads (and audit writes) for `reconcile`: the ledger side of Langfuse ↔ ledger ↔ Stripe. */
export class ReconciliationRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  /**
   * The ledger's exact Sparks for the usage that OCCURRED in the month: every non-quarantined
   * row of the traces Langfuse shows for it (wherever they were billed, late lines included),
   * plus the month's own rows Langfuse no longer shows (those are drift too).
   */
  async occurredTotals(month: string, traceIds: readonly string[]): Promise<LedgerGroupTotal[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`with seen as (select jsonb_array_elements_text(${jsonParam(traceIds)}::jsonb) as trace_id)
          select customer_id, usage_category, sum(exact_sparks)::text as exact
          from usage_items u
          where u.status <> 'quarantined' and u.customer_id is not null
            and (u.trace_id in (select trace_id from seen)
                 or (u.month = ${month} and u.late_from is null))
          group by customer_id, usage_category`,
    );
    return rows.map((r) => ({
      customerId: String(r.customer_id),
      category: String(r.usage_category),
      exactNano: exactTextToNano(r.exact),
    }));
  }

  /** Per (customer, category) of the billing month: exact, late part, and sent whole Sparks. */
  async billedTotals(month: string): Promise<BilledGroupTotal[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`with items as (
            select customer_id, usage_category,
                   sum(exact_sparks) filter (where status in ${BILLED_STATUSES}) as exact,
                   sum(exact_sparks) filter (where status in ${BILLED_STATUSES} and late_from is not null) as late
            from usage_items where month = ${month} and customer_id is not null
            group by customer_id, usage_category),
          events as (
            select customer_id, usage_category, sum(value) as sent
            from meter_events where month = ${month} and status = 'sent'
            group by customer_id, usage_category)
          select coalesce(i.customer_id, e.customer_id) as customer_id,
                 coalesce(i.usage_category, e.usage_category) as usage_category,
                 coalesce(i.exact, 0)::text as exact, coalesce(i.late, 0)::text as late,
                 coalesce(e.sent, 0)::text as sent, c.stripe_customer_id
          from items i
          full join events e on e.customer_id = i.customer_id and e.usage_category = i.usage_category
          left join customers c on c.id = coalesce(i.customer_id, e.customer_id)
          order by 1, 2`,
    );
    return rows.map((r) => ({
      customerId: String(r.customer_id),
      category: String(r.usage_category),
      exactNano: exactTextToNano(r.exact),
      lateNano: exactTextToNano(r.late),
      sentSparks: toBigInt(r.sent),
      stripeCustomerId: toNullableString(r.stripe_customer_id),
    }));
  }

  /** Meter events of a group Stripe acknowledged, oldest first. */
  async sentEvents(month: string, customerId: string, category: string): Promise<SentMeterEvent[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select id, identifier, event_name, stripe_customer_id, value, event_timestamp, sent_at
          from meter_events
          where month = ${month} and customer_id = ${customerId} and usage_category = ${category}
            and status = 'sent'
          order by event_timestamp, id`,
    );
    return rows.map((r) => ({
      id: toNumber(r.id),
      identifier: String(r.identifier),
      eventName: String(r.event_name),
      stripeCustomerId: String(r.stripe_customer_id),
      value: toNumber(r.value),
      eventTimestamp: toDate(r.event_timestamp),
      sentAt: r.sent_at === null || r.sent_at === undefined ? null : toDate(r.sent_at),
    }));
  }

  /** Repair identifiers already sent in place of ledger identifiers (original → repair ids). */
  async repairsOf(identifiers: readonly string[]): Promise<Map<string, string[]>> {
    const rows = await executeRows<{ original: unknown; repair: unknown }>(
      this.db,
      sql`select request->>'original_identifier' as original, identifier as repair
          from stripe_audit_log
          where operation = ${RECONCILE_REPAIR_OPERATION} and error is null
            and request->>'original_identifier' in
              (select jsonb_array_elements_text(${jsonParam(identifiers)}::jsonb))
          order by id`,
    );
    const out = new Map<string, string[]>();
    for (const r of rows) {
      const original = String(r.original);
      out.set(original, [...(out.get(original) ?? []), String(r.repair)]);
    }
    return out;
  }

  /** Cancelled identifiers (successful adjustments) among `identifiers`. */
  async cancelled(identifiers: readonly string[]): Promise<Set<string>> {
    const rows = await executeRows<{ identifier: unknown }>(
      this.db,
      sql`select distinct identifier from stripe_audit_log
          where operation = ${RECONCILE_CANCEL_OPERATION} and error is null
            and identifier in (select jsonb_array_elements_text(${jsonParam(identifiers)}::jsonb))`,
    );
    return new Set(rows.map((r) => String(r.identifier)));
  }

  /**
   * Every meter event Sparks itself got Stripe to accept for a customer + meter with a timestamp
   * in [from, to), received since `since`: the only events Sparks can name (and so cancel).
   */
  async auditedSends(
    stripeCustomerId: string,
    eventName: string,
    from: Date,
    to: Date,
    since: Date,
  ): Promise<AuditedSend[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select identifier, (request->>'timestamp')::bigint as ts, (request->>'value')::bigint as value, at
          from stripe_audit_log
          where operation in (${METER_EVENT_OPERATION}, ${METER_EVENT_STREAM_OPERATION})
            and response->>'outcome' = 'sent'
            and request->>'stripe_customer_id' = ${stripeCustomerId}
            and request->>'event_name' = ${eventName}
            and (request->>'timestamp')::bigint >= ${Math.floor(from.getTime() / 1000)}
            and (request->>'timestamp')::bigint < ${Math.floor(to.getTime() / 1000)}
            and at >= ${since.toISOString()}::timestamptz
          order by id`,
    );
    return rows.map((r) => ({
      identifier: String(r.identifier),
      timestamp: toNumber(r.ts),
      value: toNumber(r.value),
      at: toDate(r.at),
    }));
  }

  async recordAudit(entry: RepairAudit): Promise<void> {
    await executeRows(
      this.db,
      sql`insert into stripe_audit_log (operation, request, response, status_code, identifier, meter_event_id, error)
          values (${entry.operation}, ${jsonParam(entry.request)}::jsonb, ${jsonParam(entry.response)}::jsonb,
                  ${entry.statusCode}, ${entry.identifier}, ${entry.meterEventId}, ${entry.error})`,
    );
  }

  /** Whole Sparks sent per customer and tier for the billing month (for the margin). */
  async sentByCustomerTier(
    month: string,
  ): Promise<Array<{ customerId: string; tier: string; sent: bigint }>> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select customer_id, coalesce(tier, 'standard') as tier, sum(sent_sparks)::text as sent
          from usage_items where month = ${month} and customer_id is not null and status = 'sent'
          group by 1, 2`,
    );
    return rows.map((r) => ({
      customerId: String(r.customer_id),
      tier: String(r.tier),
      sent: toBigInt(r.sent),
    }));
  }
}
