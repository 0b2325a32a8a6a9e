import { sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import { jsonParam } from "./row-values.util";
import { textArrayParam } from "./text-array.param";

export interface StripeAuditEntry {
  operation: string;
  identifier: string | null;
  /** What was asked, without secrets (the caller's responsibility). */
  request: unknown;
  /** Outcome details (e.g. `{ outcome, requestId }`). */
  response: unknown;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

/** One `stripe_audit_log` row per Stripe call; linked to its meter event and items by identifier. */
export class StripeAuditRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  async record(entry: StripeAuditEntry): Promise<void> {
    await this.recordMany([entry]);
  }

  /**
   * One statement for many calls (the push writes a batch of concurrent calls at once): each row
   * is linked to its meter event and that event's items through the identifier.
   */
  async recordMany(entries: readonly StripeAuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const payload = jsonParam(
      entries.map((e, ord) => ({
        ord,
        operation: e.operation,
        request: e.request ?? null,
        response: e.response ?? null,
        status_code: e.statusCode,
        identifier: e.identifier,
        duration_ms: e.durationMs,
        error: e.error,
      })),
    );
    await executeRows(
      this.db,
      sql`insert into stripe_audit_log (operation, request, response, status_code, identifier, meter_event_id,
            usage_item_ids, duration_ms, error)
          select x.operation, x.request, x.response, x.status_code, x.identifier, m.id,
            (select array_agg(u.id order by u.id) from usage_items u where m.id is not null and u.meter_event_id = m.id),
            x.duration_ms, x.error
          from jsonb_to_recordset(${payload}::jsonb) as x(ord int, operation text, request jsonb, response jsonb,
            status_code int, identifier text, duration_ms int, error text)
          left join meter_events m on m.identifier = x.identifier
          order by x.ord`,
    );
  }

  /**
   * Of these meter-event identifiers, the ones a call already got Stripe to accept (sent, or
   * answered as a duplicate): a push that died between Stripe's answer and its own bookkeeping
   * finds them here instead of sending them again, which matters once Stripe's ~24 h identifier
   * memory has passed.
   */
  async acceptedIdentifiers(
    operations: readonly string[],
    identifiers: readonly string[],
  ): Promise<Set<string>> {
    if (identifiers.length === 0) return new Set();
    const rows = await executeRows<{ identifier: unknown }>(
      this.db,
      sql`select distinct identifier from stripe_audit_log
          where operation = any(${textArrayParam(operations)}::text[])
            and response->>'outcome' in ('sent', 'duplicate')
            and identifier = any(${textArrayParam(identifiers)}::text[])`,
    );
    return new Set(rows.map((r) => String(r.identifier)));
  }
}
