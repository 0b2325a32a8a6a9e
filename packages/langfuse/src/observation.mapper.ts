import { pickBillingMetadata, rawUsageDetails } from "./billing-metadata";
import { costToDecimal } from "./cost.decimal";
import type { ObservationRecord } from "./langfuse.types";
import type { ObservationV1Row, TraceV1Row } from "./langfuse-response.schemas";
import { scrubNul, scrubNulRecord } from "./nul.scrubber";

export const TRACE_RECORD_PREFIX = "trace:";
export const TRACE_RECORD_TYPE = "TRACE";

function v1TotalCost(row: ObservationV1Row): unknown {
  const details = row.costDetails;
  if (row.calculatedTotalCost !== null && row.calculatedTotalCost !== undefined)
    return row.calculatedTotalCost;
  return typeof details === "object" && details !== null && "total" in details ? details.total : null;
}

/** v1 observation → record. v1 observations carry no userId: the TRACE pseudo-row has it. */
export function fromObservationV1(row: ObservationV1Row): ObservationRecord | null {
  if (row.traceId === null || row.traceId === "") return null;
  return {
    observationId: scrubNul(row.id),
    traceId: scrubNul(row.traceId),
    type: scrubNul(row.type),
    startTime: new Date(row.startTime),
    userId: null,
    isRoot: row.parentObservationId == null,
    usageDetails: scrubNulRecord(rawUsageDetails(row.usageDetails)),
    metadata: scrubNulRecord(pickBillingMetadata(row.metadata)),
    costUsd: costToDecimal(v1TotalCost(row)),
  };
}

/**
 * v1 trace → pseudo-observation carrying the trace-level metadata, userId and timestamp (v1
 * observations do not repeat them). No usage and no cost, so nothing is counted twice.
 */
export function fromTraceV1(row: TraceV1Row): ObservationRecord {
  return {
    observationId: `${TRACE_RECORD_PREFIX}${scrubNul(row.id)}`,
    traceId: scrubNul(row.id),
    type: TRACE_RECORD_TYPE,
    startTime: new Date(row.timestamp),
    userId: row.userId == null ? null : scrubNul(row.userId),
    isRoot: false,
    usageDetails: null,
    metadata: scrubNulRecord(pickBillingMetadata(row.metadata)),
    costUsd: null,
  };
}
