import type { TierName } from "@sparks/core";

/** On/off flags for tier-limited features, as `/quota` reports them to Flowise and the UI. */
export interface TierFeatures {
  /** Usage beyond the monthly quota is allowed (billed). */
  unlimited_usage: boolean;
  /** Reports as CSV with the Langfuse trace ids behind every line. */
  csv_export: boolean;
  priority_support: boolean;
  /** A per-customer monthly quota set by an admin. */
  custom_quota: boolean;
  /** A negotiated Spark rate instead of SPARK_RATE. */
  negotiated_rate: boolean;
}

/** The feature map per tier (SPEC §5). A constant on purpose: changing it is a product decision. */
export const TIER_FEATURES: Readonly<Record<TierName, Readonly<TierFeatures>>> = Object.freeze({
  free: Object.freeze({
    unlimited_usage: false,
    csv_export: false,
    priority_support: false,
    custom_quota: false,
    negotiated_rate: false,
  }),
  standard: Object.freeze({
    unlimited_usage: true,
    csv_export: true,
    priority_support: false,
    custom_quota: false,
    negotiated_rate: false,
  }),
  enterprise: Object.freeze({
    unlimited_usage: true,
    csv_export: true,
    priority_support: true,
    custom_quota: true,
    negotiated_rate: true,
  }),
});
