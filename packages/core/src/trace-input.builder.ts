import type { ObservationRecord } from "./ledger-item.types";
import type { ObservationInput, TraceInput } from "./usage.types";

/** The v1 trace pseudo-observation type (see @sparks/langfuse TRACE_RECORD_TYPE). */
const TRACE_TYPE = "TRACE";

/**
 * Rebuilds one trace from its staged rows for core's `deriveUsage`. v2 observations carry no
 * trace object, so the trace-level view is: the v1 TRACE row if staged, else the root
 * observation (Langfuse v4 propagates trace attributes to it), else the earliest observation.
 * Core then falls back to the other observations' metadata key by key, in time order.
 */
export function buildTraceInput(traceId: string, rows: readonly ObservationRecord[]): TraceInput {
  const ordered = [...rows].sort(
    (a, b) => a.startTime.getTime() - b.startTime.getTime() || a.observationId.localeCompare(b.observationId),
  );
  const traceRow = ordered.find((r) => r.type === TRACE_TYPE);
  const observations = ordered.filter((r) => r.type !== TRACE_TYPE);
  const root = observations.find((r) => r.isRoot) ?? observations[0];
  const timestamp = traceRow?.startTime ?? ordered[0]?.startTime ?? new Date(0);
  const userId =
    traceRow?.userId ?? root?.userId ?? observations.find((r) => r.userId !== null)?.userId ?? null;
  return {
    traceId,
    timestamp,
    userId,
    metadata: traceRow ? traceRow.metadata : (root?.metadata ?? null),
    observations: observations.map(
      (r): ObservationInput => ({
        id: r.observationId,
        type: r.type,
        metadata: r.metadata,
        usageDetails: r.usageDetails,
      }),
    ),
  };
}

/** Groups staged rows by trace id. */
export function groupByTrace(rows: readonly ObservationRecord[]): Map<string, ObservationRecord[]> {
  const out = new Map<string, ObservationRecord[]>();
  for (const row of rows) {
    const list = out.get(row.traceId);
    if (list) list.push(row);
    else out.set(row.traceId, [row]);
  }
  return out;
}
