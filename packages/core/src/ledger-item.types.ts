import type { UsageItemStatus } from "./usage-item-status.constants";

/**
 * The ledger as the domain sees it (the db adapter's rows are structurally these, with more
 * columns). One usage item per `(trace_id, usage_category, quantity_revision)`.
 */
export interface LedgerEntry {
  id: number;
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
  exactNano: bigint;
  reason: string | null;
  meterEventId: number | null;
  costCenter: string;
  tier: string | null;
  tierHint: string | null;
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

/** One staged Langfuse observation (or v1 TRACE pseudo-observation), as the Langfuse adapter records it. */
export interface ObservationRecord {
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
