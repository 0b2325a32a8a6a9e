import type { UsageCategory } from "./usage-category.constants";

/** One Langfuse observation, normalized by the Langfuse adapter (v1 or v2 API). */
export interface ObservationInput {
  id: string;
  type: string;
  metadata: Record<string, unknown> | null;
  usageDetails: Record<string, unknown> | null;
}

/** One Langfuse trace with its observations: the unit of billing (SPEC §2). */
export interface TraceInput {
  traceId: string;
  timestamp: Date;
  userId: string | null;
  metadata: Record<string, unknown> | null;
  observations: ObservationInput[];
}

export interface DerivedItem {
  category: UsageCategory;
  /** Exact quantity in `unit`, a plain decimal string (e.g. "1500", "0.25"). */
  quantity: string;
  unit: string;
  /** Exact Sparks, floored to a whole nano-Spark. */
  nanoSparks: bigint;
}

export interface QuarantinedItem {
  /** null when the category itself is unknown (a bad `usage_category`). */
  category: UsageCategory | null;
  /** A sentence naming the field and the value, for operators. */
  reason: string;
  /** The offending value as found in the trace (any JSON value); for an item over the max, its quantity string. */
  rawValue: unknown;
}

export interface DerivedUsage {
  traceId: string;
  /** `customer_id` metadata or the trace's userId; null when neither resolves. */
  customerRef: string | null;
  costCenter: string;
  /** `subscription_tier` metadata, informational only (never validated against tiers here). */
  tierHint: string | null;
  items: DerivedItem[];
  quarantined: QuarantinedItem[];
  /**
   * Set when the whole trace must be quarantined (no resolvable customer). Items are still
   * derived so the amount at risk can be shown, but none may be sent while this is set.
   */
  traceProblem: string | null;
  /** Non-blocking oddities (e.g. a non-string cost_center); nothing here changes billing. */
  warnings: string[];
}
