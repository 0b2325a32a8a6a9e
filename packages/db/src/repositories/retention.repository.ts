import { sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import { toNumber } from "./row-values.util";

export interface RetentionCounts {
  observation_usage: number;
  sync_run_traces: number;
  stripe_audit_log: number;
  webhook_events: number;
}

/** Item states that may still need their trace re-derived from staging (retry, send, repair). */
const OPEN_ITEM_STATUSES = sql.raw(`('pending', 'sending', 'failed', 'quarantined')`);

/**
 * Deletes raw data older than a cutoff the caller has already clamped to the oldest month that
 * is not closed. The ledger itself (`usage_items`, `meter_events`) is never touched. Staging
 * rows go by whole trace only: a trace that still has a row at or after the cutoff, an item
 * that may be retried or sent, or a customer whose payment failed keeps all its rows, because
 * re-deriving a trace from half of its observations would look like a shrink (a discrepancy).
 */
export class RetentionRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  async prune(cutoff: Date): Promise<RetentionCounts> {
    const at = cutoff.toISOString();
    const count = async (query: ReturnType<typeof sql>) => {
      const rows = await executeRows<{ n: unknown }>(this.db, query);
      return toNumber(rows[0]?.n ?? 0);
    };
    const observation_usage = await count(
      sql`with gone as (
            delete from observation_usage o
            where o.start_time < ${at}::timestamptz
              and not exists (select 1 from observation_usage n
                              where n.trace_id = o.trace_id and n.start_time >= ${at}::timestamptz)
              and not exists (select 1 from usage_items u
                              where u.trace_id = o.trace_id
                                and (u.status in ${OPEN_ITEM_STATUSES}
                                     or u.customer_id in (select id from customers where pause_reason = 'payment_failed')))
            returning 1)
          select count(*) as n from gone`,
    );
    const sync_run_traces = await count(
      sql`with gone as (
            delete from sync_run_traces t using sync_runs r
            where t.sync_run_id = r.id and r.status in ('completed', 'failed')
              and r.finished_at < ${at}::timestamptz
            returning 1)
          select count(*) as n from gone`,
    );
    const stripe_audit_log = await count(
      sql`with gone as (delete from stripe_audit_log where at < ${at}::timestamptz returning 1)
          select count(*) as n from gone`,
    );
    const webhook_events = await count(
      sql`with gone as (
            delete from webhook_events where status = 'processed' and received_at < ${at}::timestamptz
            returning 1)
          select count(*) as n from gone`,
    );
    return { observation_usage, sync_run_traces, stripe_audit_log, webhook_events };
  }
}
