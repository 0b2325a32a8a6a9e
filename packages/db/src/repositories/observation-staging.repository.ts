import type { ObservationRecord } from "@sparks/core";
import { sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import { toDate, toNullableString } from "./row-values.util";
import { textArrayParam } from "./text-array.param";

/** One Langfuse observation as staged: core's `ObservationRecord` (what @sparks/langfuse reads). */
export type StagedObservation = ObservationRecord;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function jsonObject(value: unknown): Record<string, unknown> | null {
  if (typeof value === "string") {
    const parsed: unknown = JSON.parse(value);
    return isRecord(parsed) ? parsed : null;
  }
  return isRecord(value) ? value : null;
}

/** JSON text of a staged JSON value (null stays SQL NULL). */
function jsonText(value: Record<string, unknown> | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

/**
 * A time as epoch milliseconds, decoded by `to_timestamp(ms / 1000)`: parsing ISO text was the
 * dearest element of the page's arrays for Postgres (~2.5 µs each, 5× a plain number), and a
 * millisecond time is exact through a float8 (Postgres rounds to the microsecond).
 */
export function epochMs(date: Date): string {
  return String(date.getTime());
}

function toStaged(r: Record<string, unknown>): StagedObservation {
  return {
    observationId: String(r.observation_id),
    traceId: String(r.trace_id),
    type: String(r.type),
    startTime: toDate(r.start_time),
    userId: toNullableString(r.user_id),
    isRoot: r.is_root === true || r.is_root === "t",
    usageDetails: jsonObject(r.usage_details),
    metadata: jsonObject(r.metadata),
    costUsd: toNullableString(r.cost_usd),
  };
}

/**
 * `observation_usage`: the idempotent unit of re-reading Langfuse. Writes are one statement
 * per page, never one per observation.
 */
export class ObservationStagingRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  /**
   * Settings for the current transaction of one ingested page (call inside one):
   * - `synchronous_commit = off`: its commit does not wait for the WAL flush. Only for work that
   *   is safe to redo after a Postgres crash, such as staging a page that will simply be read
   *   again.
   * - key lookups only: every read of a page is a lookup by trace or row id, but during a
   *   backfill the tables grow faster than autovacuum analyzes them, and without statistics the
   *   planner takes `trace_id = any(<300 ids>)` for most of the table and chose (parallel)
   *   sequential scans — up to 150 ms per page, growing with the table. Index scans are right at
   *   any size here; JIT (which the then huge costs would trigger) never pays off for these.
   */
  async pageTransactionSettings(): Promise<void> {
    await executeRows(
      this.db,
      sql`select set_config('synchronous_commit', 'off', true), set_config('enable_seqscan', 'off', true),
                 set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true)`,
    );
  }

  /**
   * Upserts a page of observations; a row is rewritten only when something billing-relevant
   * changed. Returns the trace ids whose staged rows were inserted or changed. One statement
   * per page, each column passed as one array parameter (see `textArrayParam`; times as epoch
   * milliseconds, see `epochMs`), JSON values as JSON text (stored as text: staging only ever hands them back, never queries into them).
   */
  async stage(records: readonly StagedObservation[]): Promise<Set<string>> {
    if (records.length === 0) return new Set();
    // ON CONFLICT cannot touch one row twice in a statement: the last copy of an id wins.
    const unique = new Map<string, StagedObservation>();
    for (const r of records) unique.set(r.observationId, r);
    const rows = [...unique.values()];
    const column = (pick: (r: StagedObservation) => string | null) => textArrayParam(rows.map(pick));
    const changed = await executeRows<{ trace_id: unknown }>(
      this.db,
      // The distinct trace ids only: a page's rows come back as a third as many.
      sql`with changed as (insert into observation_usage
            (observation_id, trace_id, type, start_time, user_id, is_root, usage_details, metadata, cost_usd)
          select o, t, ty, to_timestamp(ms / 1000), u, root, ud, m, c from unnest(
            ${column((r) => r.observationId)}::text[], ${column((r) => r.traceId)}::text[],
            ${column((r) => r.type)}::text[], ${column((r) => epochMs(r.startTime))}::float8[],
            ${column((r) => r.userId)}::text[], ${column((r) => (r.isRoot ? "t" : "f"))}::boolean[],
            ${column((r) => jsonText(r.usageDetails))}::text[], ${column((r) => jsonText(r.metadata))}::text[],
            ${column((r) => r.costUsd)}::text[]) as x(o, t, ty, ms, u, root, ud, m, c)
          on conflict (observation_id) do update set
            trace_id = excluded.trace_id, type = excluded.type, start_time = excluded.start_time,
            user_id = excluded.user_id, is_root = excluded.is_root,
            usage_details = excluded.usage_details, metadata = excluded.metadata,
            cost_usd = excluded.cost_usd, seen_at = now()
          where (observation_usage.trace_id, observation_usage.type, observation_usage.start_time,
                 observation_usage.user_id, observation_usage.is_root, observation_usage.usage_details,
                 observation_usage.metadata, observation_usage.cost_usd)
             is distinct from
                (excluded.trace_id, excluded.type, excluded.start_time, excluded.user_id,
                 excluded.is_root, excluded.usage_details, excluded.metadata, excluded.cost_usd)
          returning trace_id)
          select distinct trace_id from changed`,
    );
    return new Set(changed.map((r) => String(r.trace_id)));
  }

  /**
   * Staged rows of these traces other than `except` (ids whose current state the caller already
   * holds, e.g. the page it just staged), ordered by (trace_id, start_time, observation_id).
   */
  async loadOthersOfTraces(
    traceIds: readonly string[],
    except: readonly string[],
  ): Promise<StagedObservation[]> {
    if (traceIds.length === 0) return [];
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select o.observation_id, o.trace_id, o.type, o.start_time, o.user_id, o.is_root,
                 o.usage_details, o.metadata, o.cost_usd
          from observation_usage o
            -- An anti-join the planner hashes (a NOT EXISTS over unnest ran as a per-row subplan).
            left join unnest(${textArrayParam(except)}::text[]) as p(id) on p.id = o.observation_id
          where o.trace_id = any(${textArrayParam(traceIds)}::text[]) and p.id is null
          order by o.trace_id, o.start_time, o.observation_id`,
    );
    return rows.map(toStaged);
  }

  /** Every staged row of these traces, ordered by (start_time, observation_id). */
  async loadByTraceIds(traceIds: readonly string[]): Promise<StagedObservation[]> {
    if (traceIds.length === 0) return [];
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select observation_id, trace_id, type, start_time, user_id, is_root, usage_details, metadata, cost_usd
          from observation_usage
          where trace_id = any(${textArrayParam(traceIds)}::text[])
          order by trace_id, start_time, observation_id`,
    );
    return rows.map(toStaged);
  }
}
