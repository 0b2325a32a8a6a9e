import { sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import type { MeterEventStatus } from "../schema/meter-events.schema";
import { jsonParam, toDate, toNumber } from "./row-values.util";
import type { UsageGroup } from "./usage-item.repository";

export interface MeterEventWrite {
  identifier: string;
  customerId: string;
  stripeCustomerId: string;
  usageCategory: string;
  eventName: string;
  month: string;
  /** Whole Sparks. */
  value: number;
  eventTimestamp: Date;
  aggregated: boolean;
  itemCount: number;
}

export interface StoredMeterEvent extends MeterEventWrite {
  id: number;
  status: MeterEventStatus;
  attempts: number;
}

function toStored(r: Record<string, unknown>): StoredMeterEvent {
  return {
    id: toNumber(r.id),
    identifier: String(r.identifier),
    customerId: String(r.customer_id),
    stripeCustomerId: String(r.stripe_customer_id),
    usageCategory: String(r.usage_category),
    eventName: String(r.event_name),
    month: String(r.month),
    value: toNumber(r.value),
    eventTimestamp: toDate(r.event_timestamp),
    aggregated: r.aggregated === true || r.aggregated === "t",
    itemCount: toNumber(r.item_count),
    status: String(r.status) as MeterEventStatus,
    attempts: toNumber(r.attempts),
  };
}

/**
 * `meter_events`: the value and identifier of every event are decided and stored here BEFORE
 * Stripe is called, so any retry (any process, after any crash) resends exactly the same event.
 */
export class MeterEventRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  /** Inserts in order; returns the new ids in the same order. */
  async insertMany(rows: readonly MeterEventWrite[]): Promise<number[]> {
    if (rows.length === 0) return [];
    const payload = jsonParam(
      rows.map((r, ord) => ({
        ord,
        identifier: r.identifier,
        customer_id: r.customerId,
        stripe_customer_id: r.stripeCustomerId,
        usage_category: r.usageCategory,
        event_name: r.eventName,
        month: r.month,
        value: r.value,
        event_timestamp: r.eventTimestamp.toISOString(),
        aggregated: r.aggregated,
        item_count: r.itemCount,
      })),
    );
    const inserted = await executeRows<{ id: unknown; identifier: unknown }>(
      this.db,
      sql`insert into meter_events (identifier, customer_id, stripe_customer_id, usage_category, event_name, month,
            value, event_timestamp, aggregated, item_count)
          select identifier, customer_id, stripe_customer_id, usage_category, event_name, month, value,
            event_timestamp, aggregated, item_count
          from jsonb_to_recordset(${payload}::jsonb) as x(ord int, identifier text, customer_id text,
            stripe_customer_id text, usage_category text, event_name text, month text, value bigint,
            event_timestamp timestamptz, aggregated boolean, item_count int)
          order by ord
          returning id, identifier`,
    );
    const byIdentifier = new Map(inserted.map((r) => [String(r.identifier), toNumber(r.id)]));
    return rows.map((r) => {
      const id = byIdentifier.get(r.identifier);
      if (id === undefined) throw new Error(`meter event ${r.identifier} was not inserted`);
      return id;
    });
  }

  /** Σ value of every event of the group ever decided (pending, sent or failed-to-be-resent). */
  async alreadyAllocated(group: UsageGroup): Promise<bigint> {
    const rows = await executeRows<{ total: unknown }>(
      this.db,
      sql`select coalesce(sum(value), 0)::text as total from meter_events
          where customer_id = ${group.customerId} and usage_category = ${group.category} and month = ${group.month}`,
    );
    return BigInt(String(rows[0]?.total ?? "0"));
  }

  /** Decided but undelivered events of the group, in decision order. */
  async pendingOfGroup(group: UsageGroup): Promise<StoredMeterEvent[]> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select * from meter_events
          where status = 'pending' and customer_id = ${group.customerId}
            and usage_category = ${group.category} and month = ${group.month}
          order by id`,
    );
    return rows.map(toStored);
  }

  async markSent(id: number, stripeResponse: unknown): Promise<void> {
    await this.markSentMany([{ id, stripeResponse }]);
  }

  /**
   * Many deliveries in one statement: the push records a batch of sent events at once rather
   * than committing once per event.
   */
  async markSentMany(deliveries: ReadonlyArray<{ id: number; stripeResponse: unknown }>): Promise<void> {
    if (deliveries.length === 0) return;
    const payload = jsonParam(deliveries.map((d) => ({ id: d.id, response: d.stripeResponse ?? null })));
    await executeRows(
      this.db,
      sql`update meter_events m set status = 'sent', sent_at = now(), attempts = m.attempts + 1, last_error = null,
            stripe_response = x.response
          from jsonb_to_recordset(${payload}::jsonb) as x(id bigint, response jsonb)
          where m.id = x.id`,
    );
  }

  /** The customer's Stripe customer was replaced (e.g. re-created after a deletion). */
  async setStripeCustomer(id: number, stripeCustomerId: string): Promise<void> {
    await executeRows(
      this.db,
      sql`update meter_events set stripe_customer_id = ${stripeCustomerId} where id = ${id}`,
    );
  }

  async recordAttemptError(id: number, error: string): Promise<void> {
    await executeRows(
      this.db,
      sql`update meter_events set attempts = attempts + 1, last_error = ${error} where id = ${id}`,
    );
  }

  async markFailed(id: number, error: string): Promise<void> {
    await executeRows(
      this.db,
      sql`update meter_events set status = 'failed', attempts = attempts + 1, last_error = ${error} where id = ${id}`,
    );
  }

  /** failed → pending for the meter events behind these usage items; returns their groups. */
  async resendForItems(itemIds: readonly number[]): Promise<UsageGroup[]> {
    if (itemIds.length === 0) return [];
    const rows = await executeRows<{ customer_id: unknown; usage_category: unknown; month: unknown }>(
      this.db,
      sql`update meter_events m set status = 'pending', last_error = null
          where m.status = 'failed' and m.id in (
            select meter_event_id from usage_items
            where id in (select (jsonb_array_elements_text(${jsonParam(itemIds)}::jsonb))::bigint)
              and meter_event_id is not null)
          returning customer_id, usage_category, month`,
    );
    return rows.map((r) => ({
      customerId: String(r.customer_id),
      category: String(r.usage_category),
      month: String(r.month),
    }));
  }

  async groupsWithPendingEvents(): Promise<UsageGroup[]> {
    const rows = await executeRows<{ customer_id: unknown; usage_category: unknown; month: unknown }>(
      this.db,
      sql`select distinct customer_id, usage_category, month from meter_events where status = 'pending'`,
    );
    return rows.map((r) => ({
      customerId: String(r.customer_id),
      category: String(r.usage_category),
      month: String(r.month),
    }));
  }
}
