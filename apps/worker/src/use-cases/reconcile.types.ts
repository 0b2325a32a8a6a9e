import type { MarginRow } from "@sparks/core";
import type { StripeClient } from "@sparks/stripe";
import type { Logger } from "pino";
import type { WorkerDeps } from "../worker-deps";
import type { InvoiceComparison } from "./compare-invoices.use-case";

/**
 * Defaults until the config package grows settings for them.
 * TODO(config): RECONCILE_DRIFT_THRESHOLD (Sparks) and MARGIN_FLOOR_PERCENT as env/config values.
 */
export const DEFAULT_DRIFT_THRESHOLD_SPARKS = 1;
export const DEFAULT_MARGIN_FLOOR_PERCENT = 20;
/** Stripe's event summaries lag behind a fresh event: events younger than this are not repaired. */
export const DEFAULT_SETTLE_MS = 10 * 60_000;

export type ReconcileDeps = Pick<WorkerDeps, "config" | "database" | "now" | "langfuse" | "stripe"> & {
  /** Where a failed alert enqueue is reported. */
  logger?: Pick<Logger, "warn">;
  /** Absent: no alerts are raised (a read-only view, e.g. the API's GET). */
  queues?: WorkerDeps["queues"];
  /** A Stripe client for summaries, adjustments and invoices; default one built from the config. */
  stripeClient?: StripeClient;
};

export interface ReconcileOptions {
  driftThresholdSparks?: number;
  marginFloorPercent?: number;
  settleMs?: number;
}

export interface ReconcileRow {
  customer_id: string;
  category: string;
  stripe_customer_id: string | null;
  /** Exact Sparks Langfuse shows for the month (re-read, derived like the pipeline, not written). */
  langfuse_sparks: string | null;
  /** Exact Sparks the ledger holds for the same usage (late lines billed later included). */
  ledger_occurred_sparks: string;
  /** Exact Sparks billed in this month (non-quarantined items whose billing month it is). */
  ledger_exact_sparks: string;
  /** The part of `ledger_exact_sparks` that is late usage of earlier months. */
  ledger_late_sparks: string;
  /** Whole Sparks of this month's meter events that Stripe acknowledged. */
  ledger_sent_sparks: string;
  /** Whole Sparks Stripe's meter event summaries show for the month. */
  stripe_sparks: string | null;
  drift: { langfuse_vs_ledger: string | null; ledger_vs_stripe: string | null };
}

export interface RepairAction {
  customer_id: string;
  category: string;
  action: "resend" | "cancel" | "none";
  identifier: string | null;
  original_identifier: string | null;
  value: number;
  outcome: "repaired" | "failed" | "unresolved";
  detail: string;
}

export type { MarginRow };

export interface ReconcileReport {
  month: string;
  generated_at: string;
  repair: boolean;
  sources: { langfuse: "read" | "not configured"; stripe: "read" | "not configured" };
  rows: ReconcileRow[];
  repairs: RepairAction[];
  margins: MarginRow[];
  alerts: string[];
  /** Each customer's month-end invoice against the ledger's net (issue 14: equal to the cent). */
  invoices: InvoiceComparison;
}
