import { sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import type { MonthCloseStatus } from "../schema/month-closes.schema";
import { toDate, toNumber } from "./row-values.util";

export interface MonthCloseState {
  month: string;
  status: MonthCloseStatus;
  closedAt: Date | null;
}

/** What still keeps a month from closing. */
export interface MonthOpenWork {
  /** Items of the month not yet delivered: `pending` or `sending`. */
  unsentItems: number;
  /** Meter events of the month decided but not yet acknowledged by Stripe. */
  pendingEvents: number;
}

export type CloseAttempt = { closed: true; closedAt: Date } | { closed: false; work: MonthOpenWork };

function stateOf(row: Record<string, unknown>): MonthCloseState {
  return {
    month: String(row.month),
    status: String(row.status) as MonthCloseStatus,
    closedAt: row.closed_at === null || row.closed_at === undefined ? null : toDate(row.closed_at),
  };
}

/**
 * `month_closes`: open → closing → closed. The final step takes a SHARE lock on usage_items so
 * no writer can slip a pending item of the month in between "nothing left" and "closed"; every
 * later write of pending usage of a closed month is re-filed by the `sparks_bill_late_usage`
 * trigger (migration 0002) into the next open month.
 */
export class MonthCloseRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  async find(month: string): Promise<MonthCloseState | null> {
    const rows = await executeRows(this.db, sql`select * from month_closes where month = ${month}`);
    return rows[0] ? stateOf(rows[0]) : null;
  }

  async list(): Promise<MonthCloseState[]> {
    const rows = await executeRows(this.db, sql`select * from month_closes order by month`);
    return rows.map(stateOf);
  }

  /** Marks the month `closing` (a closed month stays closed); returns its state. */
  async markClosing(month: string): Promise<MonthCloseState> {
    const rows = await executeRows(
      this.db,
      sql`insert into month_closes (month, status) values (${month}, 'closing')
          on conflict (month) do update set status = 'closing', updated_at = now()
            where month_closes.status = 'open'
          returning *`,
    );
    if (rows[0]) return stateOf(rows[0]);
    return (await this.find(month)) as MonthCloseState;
  }

  async openWork(month: string): Promise<MonthOpenWork> {
    return openWorkOf(this.db, month);
  }

  /**
   * Closes the month if nothing of it is left to send, atomically with that check. Gives up
   * (throws) when the lock is not granted within `lockTimeoutMs`; the caller retries later.
   */
  async closeIfFlushed(month: string, at: Date, lockTimeoutMs = 10_000): Promise<CloseAttempt> {
    return this.db.transaction(async (tx) => {
      await executeRows(tx, sql.raw(`set local lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`));
      await executeRows(tx, sql`lock table usage_items in share mode`);
      const work = await openWorkOf(tx, month);
      if (work.unsentItems > 0 || work.pendingEvents > 0) return { closed: false as const, work };
      await executeRows(
        tx,
        sql`insert into month_closes (month, status, closed_at) values (${month}, 'closed', ${at.toISOString()}::timestamptz)
            on conflict (month) do update set status = 'closed', closed_at = excluded.closed_at, updated_at = now()
              where month_closes.status <> 'closed'`,
      );
      const state = await new MonthCloseRepository(tx).find(month);
      return { closed: true as const, closedAt: state?.closedAt ?? at };
    });
  }

  /**
   * Months before `beforeMonth` that are not closed: every month the ledger has items in, plus
   * any month already recorded as open/closing. Sorted oldest first.
   */
  async unclosedMonthsBefore(beforeMonth: string): Promise<string[]> {
    const rows = await executeRows<{ month: unknown }>(
      this.db,
      sql`select month from (
            select distinct month from usage_items where month < ${beforeMonth}
            union select month from month_closes where month < ${beforeMonth}
          ) m
          where not exists (select 1 from month_closes c where c.month = m.month and c.status = 'closed')
          order by month`,
    );
    return rows.map((r) => String(r.month));
  }
}

async function openWorkOf(db: SparksDb | SparksTx, month: string): Promise<MonthOpenWork> {
  const rows = await executeRows<{ items: unknown; events: unknown }>(
    db,
    sql`select
          (select count(*) from usage_items where month = ${month} and status in ('pending', 'sending')) as items,
          (select count(*) from meter_events where month = ${month} and status = 'pending') as events`,
  );
  return { unsentItems: toNumber(rows[0]?.items ?? 0), pendingEvents: toNumber(rows[0]?.events ?? 0) };
}
