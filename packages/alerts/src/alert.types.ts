import type { JobInput, JobPayload } from "@sparks/queues";

/** Every alert Sparks raises. `alerts_suppressed` is the rate limiter's own summary. */
export const ALERT_KINDS = [
  "quota_80",
  "quota_100",
  "spend_cap_50",
  "spend_cap_80",
  "spend_cap_100",
  "quota_counters_lost",
  "usage_spike",
  "sync_failures",
  "webhook_failure",
  "payment_failed",
  "reconciliation_drift",
  "invoice_mismatch",
  "invoice_hold",
  "month_close_stuck",
  "margin_below_floor",
  "alerts_suppressed",
] as const;

export type AlertKind = (typeof ALERT_KINDS)[number];

/** The summary kind is produced by the delivery itself and never rate-limited. */
export const SUMMARY_KIND: AlertKind = "alerts_suppressed";

/** An alert as a producer enqueues it (the `alerts` job payload, with a known kind). */
export type AlertInput = Omit<JobInput<"alerts">, "kind"> & { kind: AlertKind };

/** An alert as the worker receives it (defaults filled in by the catalog schema). */
export type Alert = JobPayload<"alerts">;

/** The outside channels; `log` (always on) is not one of them. */
export type DeliveryChannelName = "slack" | "email";

export function isAlertKind(value: string): value is AlertKind {
  return (ALERT_KINDS as readonly string[]).includes(value);
}
