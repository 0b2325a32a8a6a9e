import { sql } from "drizzle-orm";
import type { SparksDb } from "../database.types";
import { executeRows } from "../execute-rows";

/**
 * What the table keeps of an alert. Structural, so packages/db needs no alert types: the
 * alerts package's `Alert` (a job payload) fits it as is.
 */
export interface AlertRecord {
  kind: string;
  dedupeKey: string;
  customerId: string | null;
  title: string;
  text?: string | undefined;
  data?: Record<string, unknown> | undefined;
}

/** An outside delivery channel (`slack`, `email`); `log` is the record row itself. */
type DeliveryChannel = string;

/** A half-open time window [start, end). */
export interface TimeWindow {
  start: Date;
  end: Date;
}

/** What became of an accepted alert: sent on the channels, or folded into the hour's summary. */
export type AlertDisposition = "deliver" | "suppressed";

export type ClaimResult =
  | { status: "claimed"; token: string }
  /** Already delivered on this channel: nothing to do. */
  | { status: "sent" }
  /** Another attempt holds a fresh claim (it may be sending right now). */
  | { status: "busy" };

/** The row key of one channel's delivery of an alert: `<dedupe key>#<channel>`. */
export function deliveryKey(dedupeKey: string, channel: DeliveryChannel): string {
  return `${dedupeKey}#${channel}`;
}

function iso(at: Date): string {
  return at.toISOString();
}

/**
 * `alerts_sent` holds, per alert, one record row (`dedupe_key` = the alert's key, channel
 * `log`, payload = the alert and its disposition) and one row per outside channel
 * (`<key>#slack`, `<key>#email`, payload `{state: sending|sent, claimedAt}`). The unique
 * `dedupe_key` makes each insert a claim: whoever inserts first owns it.
 *
 * `customer_id` is a foreign key; a producer may name a customer the table does not have
 * (an Auth0 id, a deleted customer), so it is stored only when it exists and kept in the
 * payload either way.
 */
export class AlertsSentRepository {
  constructor(private readonly db: SparksDb) {}

  /** Inserts the record row once; later calls return the disposition chosen the first time. */
  async record(
    alert: AlertRecord,
    disposition: AlertDisposition,
    at: Date,
  ): Promise<{ inserted: boolean; disposition: AlertDisposition; recordedAt: Date }> {
    const payload = {
      title: alert.title,
      text: alert.text,
      data: alert.data,
      customerRef: alert.customerId,
      disposition,
    };
    const inserted = await executeRows<{ id: unknown }>(
      this.db,
      sql`insert into alerts_sent (kind, customer_id, dedupe_key, channel, payload, sent_at)
          values (${alert.kind}, (select id from customers where id = ${alert.customerId}),
                  ${alert.dedupeKey}, 'log', ${JSON.stringify(payload)}::jsonb, ${iso(at)}::timestamptz)
          on conflict (dedupe_key) do nothing
          returning id`,
    );
    if (inserted.length > 0) return { inserted: true, disposition, recordedAt: at };
    const existing = await executeRows<{ disposition: unknown; sent_at: unknown }>(
      this.db,
      sql`select payload->>'disposition' as disposition, sent_at from alerts_sent where dedupe_key = ${alert.dedupeKey}`,
    );
    const row = existing[0];
    const raw = row?.sent_at;
    // postgres-js may hand back a Date or a string for timestamptz, depending on the query path.
    const recordedAt = raw instanceof Date ? raw : new Date(String(raw));
    return {
      inserted: false,
      disposition: row?.disposition === "suppressed" ? "suppressed" : "deliver",
      recordedAt: Number.isNaN(recordedAt.getTime()) ? at : recordedAt,
    };
  }

  /** Alerts of `kind` let through (not suppressed) in the window. */
  async countDelivered(kind: string, window: TimeWindow): Promise<number> {
    const rows = await executeRows<{ n: unknown }>(
      this.db,
      sql`select count(*) as n from alerts_sent
          where kind = ${kind} and channel = 'log' and payload->>'disposition' = 'deliver'
            and sent_at >= ${iso(window.start)}::timestamptz and sent_at < ${iso(window.end)}::timestamptz`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** The suppressed alerts of `kind` in the window: how many, and the first titles. */
  async suppressed(
    kind: string,
    window: TimeWindow,
    sampleSize = 5,
  ): Promise<{ count: number; titles: string[] }> {
    const where = sql`kind = ${kind} and channel = 'log' and payload->>'disposition' = 'suppressed'
      and sent_at >= ${iso(window.start)}::timestamptz and sent_at < ${iso(window.end)}::timestamptz`;
    const [count, titles] = await Promise.all([
      executeRows<{ n: unknown }>(this.db, sql`select count(*) as n from alerts_sent where ${where}`),
      executeRows<{ title: unknown }>(
        this.db,
        sql`select payload->>'title' as title from alerts_sent where ${where} order by sent_at, id limit ${sampleSize}`,
      ),
    ]);
    return { count: Number(count[0]?.n ?? 0), titles: titles.map((r) => String(r.title)) };
  }

  /**
   * Claims the delivery of `alert` on `channel`. A claim older than `leaseMs` is taken over:
   * its holder crashed mid-send (a live holder finishes or releases well within the lease,
   * which is longer than a channel's timeout).
   */
  async claim(alert: AlertRecord, channel: DeliveryChannel, at: Date, leaseMs: number): Promise<ClaimResult> {
    const key = deliveryKey(alert.dedupeKey, channel);
    const token = iso(at);
    const payload = JSON.stringify({ state: "sending", claimedAt: token });
    const inserted = await executeRows<{ id: unknown }>(
      this.db,
      sql`insert into alerts_sent (kind, customer_id, dedupe_key, channel, payload, sent_at)
          values (${alert.kind}, (select id from customers where id = ${alert.customerId}),
                  ${key}, ${channel}, ${payload}::jsonb, ${token}::timestamptz)
          on conflict (dedupe_key) do nothing
          returning id`,
    );
    if (inserted.length > 0) return { status: "claimed", token };

    const rows = await executeRows<{ state: unknown; claimed_at: unknown }>(
      this.db,
      sql`select payload->>'state' as state, payload->>'claimedAt' as claimed_at
          from alerts_sent where dedupe_key = ${key}`,
    );
    const row = rows[0];
    // Released between our insert and this read: the next attempt claims it.
    if (!row) return { status: "busy" };
    if (row.state === "sent") return { status: "sent" };
    const claimedAt = Date.parse(String(row.claimed_at));
    if (Number.isFinite(claimedAt) && at.getTime() - claimedAt < leaseMs) return { status: "busy" };
    const taken = await executeRows<{ id: unknown }>(
      this.db,
      sql`update alerts_sent set payload = ${payload}::jsonb, sent_at = ${token}::timestamptz
          where dedupe_key = ${key} and payload->>'state' = 'sending'
            and payload->>'claimedAt' = ${String(row.claimed_at)}
          returning id`,
    );
    return taken.length > 0 ? { status: "claimed", token } : { status: "busy" };
  }

  async markSent(alert: AlertRecord, channel: DeliveryChannel, token: string, at: Date): Promise<void> {
    await executeRows(
      this.db,
      sql`update alerts_sent
          set payload = jsonb_build_object('state', 'sent', 'claimedAt', ${token}::text), sent_at = ${iso(at)}::timestamptz
          where dedupe_key = ${deliveryKey(alert.dedupeKey, channel)}`,
    );
  }

  /** Gives a failed claim back, so the next attempt sends at once instead of waiting out the lease. */
  async release(alert: AlertRecord, channel: DeliveryChannel, token: string): Promise<void> {
    await executeRows(
      this.db,
      sql`delete from alerts_sent
          where dedupe_key = ${deliveryKey(alert.dedupeKey, channel)}
            and payload->>'state' = 'sending' and payload->>'claimedAt' = ${token}`,
    );
  }
}
