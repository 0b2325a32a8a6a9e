import { sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import { jsonParam, toDate, toNullableString } from "./row-values.util";

/** One Langfuse observation as staged (the shape of `ObservationRecord` from @sparks/langfuse). */
export interface StagedObservation {
  observationId: string;
  traceId: string;
  type: string;
  startTime: Date;
  userId: string | null;
  isRoot: boolean;
  usageDetails: Record<string, unknown> | null;
  metadata: Record<string, unknown> | null;
  costUsd: string | null;
}

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

/**
 * `observation_usage`: the idempotent unit of re-reading Langfuse. Writes are one statement
 * per page (`jsonb_to_recordset`), never one per observation.
 */
export class ObservationStagingRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  /**
   * `SET LOCAL synchronous_commit = off` for the current transaction (call inside one): its
   * commit does not wait for the WAL flush. Only for work that is safe to redo after a Postgres
   * crash, such as staging a page that will simply be read again.
   */
  async deferCommitFlush(): Promise<void> {
    await executeRows(this.db, sql`set local synchronous_commit = off`);
  }

  /**
   * Upserts a page of observations; a row is rewritten only when something billing-relevant
   * changed. Returns the trace ids whose staged rows were inserted or changed.
   */
  async stage(records: readonly StagedObservation[]): Promise<Set<string>> {
    if (records.length === 0) return new Set();
    // ON CONFLICT cannot touch one row twice in a statement: the last copy of an id wins.
    const unique = new Map<string, StagedObservation>();
    for (const r of records) unique.set(r.observationId, r);
    const payload = jsonParam(
      [...unique.values()].map((r) => ({
        observation_id: r.observationId,
        trace_id: r.traceId,
        type: r.type,
        start_time: r.startTime.toISOString(),
        user_id: r.userId,
        is_root: r.isRoot,
        usage_details: r.usageDetails,
        metadata: r.metadata,
        cost_usd: r.costUsd,
      })),
    );
    const rows = await executeRows<{ trace_id: unknown }>(
      this.db,
      sql`insert into observation_usage
            (observation_id, trace_id, type, start_time, user_id, is_root, usage_details, metadata, cost_usd)
          select x.observation_id, x.trace_id, x.type, x.start_time, x.user_id, x.is_root,
                 x.usage_details, x.metadata, x.cost_usd
          from jsonb_to_recordset(${payload}::jsonb) as x(
            observation_id text, trace_id text, type text, start_time timestamptz, user_id text,
            is_root boolean, usage_details jsonb, metadata jsonb, cost_usd text)
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
          returning trace_id`,
    );
    return new Set(rows.map((r) => String(r.trace_id)));
  }

  /** Every staged row of these traces, ordered by (start_time, observation_id). */
  async loadByTraceIds(traceIds: readonly string[]): Promise<StagedObservation[]> {
    if (traceIds.length === 0) return [];
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select observation_id, trace_id, type, start_time, user_id, is_root, usage_details, metadata, cost_usd
          from observation_usage
          where trace_id in (select jsonb_array_elements_text(${jsonParam(traceIds)}::jsonb))
          order by trace_id, start_time, observation_id`,
    );
    return rows.map((r) => ({
      observationId: String(r.observation_id),
      traceId: String(r.trace_id),
      type: String(r.type),
      startTime: toDate(r.start_time),
      userId: toNullableString(r.user_id),
      isRoot: r.is_root === true || r.is_root === "t",
      usageDetails: jsonObject(r.usage_details),
      metadata: jsonObject(r.metadata),
      costUsd: toNullableString(r.cost_usd),
    }));
  }
}
