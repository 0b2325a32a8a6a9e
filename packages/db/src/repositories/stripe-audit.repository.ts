import { sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import { jsonParam } from "./row-values.util";

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
    await executeRows(
      this.db,
      sql`insert into stripe_audit_log (operation, request, response, status_code, identifier, meter_event_id,
            usage_item_ids, duration_ms, error)
          select ${entry.operation}, ${jsonParam(entry.request)}::jsonb, ${jsonParam(entry.response)}::jsonb,
            ${entry.statusCode}, ${entry.identifier}, m.id,
            (select array_agg(u.id order by u.id) from usage_items u where u.meter_event_id = m.id),
            ${entry.durationMs}, ${entry.error}
          from (select 1) one
          left join meter_events m on m.identifier = ${entry.identifier}`,
    );
  }
}
