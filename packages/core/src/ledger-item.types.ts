import type { UsageItemStatus } from "./usage-item-status.constants";

/**
 * The ledger as the domain sees it (the db adapter's rows are structurally these, with more
 * columns). One usage item per `(trace_id, usage_category, quantity_revision)`: the fields ingest
 * writes (exact Sparks as nano-Sparks rather than text, no sync run), plus its id and meter event.
 */
export interface LedgerEntry extends Omit<LedgerEntryWrite, "exactSparks" | "syncRunId"> {
  id: number;
  exactNano: bigint;
  meterEventId: number | null;
}

/** The fields ingest writes for one usage item (insert or update); ids and send state are not among them. */
export interface LedgerEntryWrite {
  traceId: string;
  usageCategory: string;
  quantityRevision: number;
  status: UsageItemStatus;
  customerId: string | null;
  customerRef: string | null;
  month: string;
  occurredAt: Date;
  quantity: string | null;
  unit: string | null;
  rawValue: unknown;
  /** Exact Sparks as a plain decimal string (nano precision). */
  exactSparks: string;
  reason: string | null;
  costCenter: string;
  tier: string | null;
  tierHint: string | null;
  syncRunId: string | null;
}

/** What billing needs of a customer: its id and current tier. */
export interface CustomerTierRef {
  id: string;
  tier: string;
}

/** One `[effectiveFrom, effectiveTo)` stretch of a customer's tier history; `effectiveTo` null = open. */
export interface TierSegment {
  tier: string;
  effectiveFrom: Date;
  effectiveTo: Date | null;
}

/** One staged row, as the Langfuse adapter records it: a Langfuse observation, or (v1 only) a trace pseudo-observation. */
export interface ObservationRecord {
  /** The observation id; v1 trace pseudo-rows use `"trace:" + traceId`. */
  observationId: string;
  traceId: string;
  /** Langfuse observation type (`GENERATION`, `SPAN`, …) or `TRACE` for v1 trace pseudo-rows. */
  type: string;
  startTime: Date;
  userId: string | null;
  /** A logical root observation (`isRootObservation`, else no parent). False for TRACE rows. */
  isRoot: boolean;
  /** Raw `usageDetails`, values untouched so core's validation sees bad values. */
  usageDetails: Record<string, unknown> | null;
  /** Only the billing keys (see BILLING_METADATA_KEYS) with their raw JSON values; null if none. */
  metadata: Record<string, unknown> | null;
  /** Langfuse `totalCost` (USD) as an exact plain decimal string; null when unknown. */
  costUsd: string | null;
}
