import { and, asc, count, eq, inArray, max, sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import {
  type SyncRunCounts,
  type SyncRunStatus,
  type SyncTrigger,
  syncRunTraces,
} from "../schema/sync.schema";
import { usageItems } from "../schema/usage-items.schema";
import { jsonParam, toDate, toNumber } from "./row-values.util";

export interface SyncRunView {
  id: string;
  status: SyncRunStatus;
  trigger: SyncTrigger;
  windowFrom: Date | null;
  windowTo: Date | null;
  customerId: string | null;
  counts: SyncRunCounts;
  processedTraceCount: number;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

function nullableDate(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

function toCounts(value: unknown): SyncRunCounts {
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  if (typeof parsed !== "object" || parsed === null) return {};
  const counts: SyncRunCounts = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === "number") counts[k] = v;
  return counts;
}

/** `sync_runs`, `sync_run_traces` and the `sync_windows` watermark. */
export class SyncRunRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  /** Creates the run if it does not exist yet (the API may have created it when queuing). */
  async ensure(input: {
    id: string;
    trigger: SyncTrigger;
    windowFrom?: Date | null;
    windowTo?: Date | null;
    customerId?: string | null;
  }): Promise<void> {
    await executeRows(
      this.db,
      sql`insert into sync_runs (id, trigger, window_from, window_to, customer_id)
          values (${input.id}, ${input.trigger}, ${input.windowFrom?.toISOString() ?? null}::timestamptz,
                  ${input.windowTo?.toISOString() ?? null}::timestamptz, ${input.customerId ?? null})
          on conflict (id) do nothing`,
    );
  }

  async start(id: string, windowFrom: Date, windowTo: Date): Promise<void> {
    await executeRows(
      this.db,
      sql`update sync_runs set status = 'running', started_at = now(), window_from = ${windowFrom.toISOString()}::timestamptz,
            window_to = ${windowTo.toISOString()}::timestamptz, error = null
          where id = ${id}`,
    );
  }

  async saveProgress(id: string, counts: SyncRunCounts): Promise<void> {
    await executeRows(
      this.db,
      sql`update sync_runs set counts = ${jsonParam(counts)}::jsonb,
            processed_trace_count = (select count(*) from sync_run_traces where sync_run_id = ${id})
          where id = ${id}`,
    );
  }

  /**
   * Marks a run that BullMQ gave up on (e.g. its worker was killed and the job stalled too often)
   * as failed, unless the run itself already recorded how it ended.
   */
  async abandon(id: string, error: string): Promise<void> {
    await executeRows(
      this.db,
      sql`update sync_runs set status = 'failed', finished_at = now(), error = ${error}
          where id = ${id} and status in ('queued', 'running')`,
    );
  }

  async finish(id: string, status: "completed" | "failed", counts: SyncRunCounts, error: string | null) {
    await executeRows(
      this.db,
      sql`update sync_runs set status = ${status}, finished_at = now(), counts = ${jsonParam(counts)}::jsonb,
            error = ${error},
            processed_trace_count = (select count(*) from sync_run_traces where sync_run_id = ${id})
          where id = ${id}`,
    );
  }

  async addTraces(id: string, traceIds: readonly string[]): Promise<void> {
    if (traceIds.length === 0) return;
    await executeRows(
      this.db,
      sql`insert into sync_run_traces (sync_run_id, trace_id)
          select ${id}, t from jsonb_array_elements_text(${jsonParam(traceIds)}::jsonb) as t
          on conflict do nothing`,
    );
  }

  async traceIds(id: string): Promise<string[]> {
    const rows = await executeRows<{ trace_id: unknown }>(
      this.db,
      sql`select trace_id from sync_run_traces where sync_run_id = ${id} order by trace_id`,
    );
    return rows.map((r) => String(r.trace_id));
  }

  async find(id: string): Promise<SyncRunView | null> {
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select * from sync_runs where id = ${id}`,
    );
    const r = rows[0];
    if (!r) return null;
    return {
      id: String(r.id),
      status: String(r.status) as SyncRunStatus,
      trigger: String(r.trigger) as SyncTrigger,
      windowFrom: nullableDate(r.window_from),
      windowTo: nullableDate(r.window_to),
      customerId: r.customer_id === null ? null : String(r.customer_id),
      counts: toCounts(r.counts),
      processedTraceCount: toNumber(r.processed_trace_count),
      error: r.error === null ? null : String(r.error),
      createdAt: toDate(r.created_at),
      startedAt: nullableDate(r.started_at),
      finishedAt: nullableDate(r.finished_at),
    };
  }

  /** Every queued or running run, oldest first (the dead-run check walks them). */
  async listActive(): Promise<Array<{ id: string; createdAt: Date }>> {
    const rows = await executeRows<{ id: unknown; created_at: unknown }>(
      this.db,
      sql`select id, created_at from sync_runs where status in ('queued', 'running') order by created_at limit 100`,
    );
    return rows.map((r) => ({ id: String(r.id), createdAt: toDate(r.created_at) }));
  }

  /** A queued or running run, if any (an overlapping manual request joins it). */
  async findActive(): Promise<SyncRunView | null> {
    const rows = await executeRows<{ id: unknown }>(
      this.db,
      sql`select id from sync_runs where status in ('queued', 'running') order by created_at limit 1`,
    );
    return rows[0] ? this.find(String(rows[0].id)) : null;
  }

  async watermark(name: string): Promise<Date | null> {
    const rows = await executeRows<{ last_closed_end: unknown }>(
      this.db,
      sql`select last_closed_end from sync_windows where name = ${name}`,
    );
    return rows[0] ? toDate(rows[0].last_closed_end) : null;
  }

  /** One page of the trace ids a run processed, sorted. */
  async processedTraceIds(syncId: string, limit: number, offset: number): Promise<string[]> {
    if (limit === 0) return [];
    const rows = await this.db
      .select({ traceId: syncRunTraces.traceId })
      .from(syncRunTraces)
      .where(eq(syncRunTraces.syncRunId, syncId))
      .orderBy(asc(syncRunTraces.traceId))
      .limit(limit)
      .offset(offset);
    return rows.map((r) => r.traceId);
  }

  async processedTraceCount(syncId: string): Promise<number> {
    const rows = await this.db
      .select({ n: count() })
      .from(syncRunTraces)
      .where(eq(syncRunTraces.syncRunId, syncId));
    return Number(rows[0]?.n ?? 0);
  }

  /** The current ledger errors (quarantined, failed, discrepancy) of the traces a run processed. */
  async itemErrorsOfRun(
    syncId: string,
    limit: number,
  ): Promise<
    Array<{ id: number; traceId: string; usageCategory: string; status: string; reason: string | null }>
  > {
    return this.db
      .select({
        id: usageItems.id,
        traceId: usageItems.traceId,
        usageCategory: usageItems.usageCategory,
        status: usageItems.status,
        reason: usageItems.reason,
      })
      .from(usageItems)
      .where(
        and(
          inArray(
            usageItems.traceId,
            this.db
              .select({ traceId: syncRunTraces.traceId })
              .from(syncRunTraces)
              .where(eq(syncRunTraces.syncRunId, syncId)),
          ),
          inArray(usageItems.status, ["quarantined", "failed", "discrepancy"]),
        ),
      )
      .orderBy(asc(usageItems.id))
      .limit(limit);
  }

  /** Latest occurred_at among the items a run wrote (how far through its window it is). */
  async positionOf(syncId: string): Promise<Date | null> {
    const rows = await this.db
      .select({ at: max(usageItems.occurredAt) })
      .from(usageItems)
      .where(eq(usageItems.syncRunId, syncId));
    return rows[0]?.at ?? null;
  }

  /** Every sync watermark (for the sync-lag gauge of `/metrics`). */
  async watermarks(): Promise<Array<{ name: string; lastClosedEnd: Date }>> {
    const rows = await executeRows<{ name: unknown; last_closed_end: unknown }>(
      this.db,
      sql`select name, last_closed_end from sync_windows`,
    );
    return rows.map((r) => ({ name: String(r.name), lastClosedEnd: toDate(r.last_closed_end) }));
  }

  /** Moves the watermark forward only (a backfill of an old window never moves it back). */
  async advanceWatermark(name: string, to: Date): Promise<void> {
    await executeRows(
      this.db,
      sql`insert into sync_windows (name, last_closed_end) values (${name}, ${to.toISOString()}::timestamptz)
          on conflict (name) do update set last_closed_end = greatest(sync_windows.last_closed_end, excluded.last_closed_end),
            updated_at = now()`,
    );
  }
}
