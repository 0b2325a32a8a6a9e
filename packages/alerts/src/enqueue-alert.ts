import type { QueueService } from "@sparks/queues";
import type { JobsOptions } from "bullmq";
import type { Logger } from "pino";
import { type AlertInput, type AlertKind, isAlertKind } from "./alert.types";

export interface EnqueueAlertOptions {
  /** Where a failed enqueue is reported (the caller carries on either way). */
  logger?: Pick<Logger, "warn">;
  /** BullMQ overrides (tests shorten the backoff; a summary is delayed). */
  job?: JobsOptions;
  /**
   * Give up after this long (default 5 s): BullMQ waits for a connection that is down instead
   * of failing, and a producer must not hang on an alert.
   */
  timeoutMs?: number;
}

const DEFAULT_ENQUEUE_TIMEOUT_MS = 5_000;

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`alerts queue did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export type EnqueueResult = { queued: true; jobId: string | undefined } | { queued: false; error: string };

/**
 * Producers only enqueue: delivery, dedupe and rate limits happen in the alerts worker. An
 * alert must never break what raised it, so a Redis failure is logged and returned, not
 * thrown. A malformed alert (unknown kind, empty key) is a programming error and throws.
 */
export async function enqueueAlert(
  queues: QueueService,
  alert: AlertInput,
  options: EnqueueAlertOptions = {},
): Promise<EnqueueResult> {
  if (!isAlertKind(alert.kind)) throw new TypeError(`enqueueAlert: unknown alert kind ${String(alert.kind)}`);
  const payload = queues.parse("alerts", alert);
  try {
    const adding = queues.add("alerts", payload, options.job);
    // The add may still settle (or fail) after the timeout; nobody waits for it then.
    adding.catch(() => undefined);
    const job = await withTimeout(adding, options.timeoutMs ?? DEFAULT_ENQUEUE_TIMEOUT_MS);
    return { queued: true, jobId: job.id };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    options.logger?.warn({ kind: alert.kind, dedupeKey: alert.dedupeKey, err: error }, "alert not enqueued");
    return { queued: false, error };
  }
}

/** Month `YYYY-MM` (UTC) of a date. */
function monthOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** Hour `YYYY-MM-DDTHH` (UTC) of a date. */
function hourOf(at: Date): string {
  return at.toISOString().slice(0, 13);
}

/**
 * Dedupe keys: each says how often its alert may fire. A key already in `alerts_sent` is
 * never sent again.
 */
export const alertKeys = {
  /** Once per threshold per customer per month. */
  quota: (pct: 80 | 100, customerId: string, month: string) => `quota:${pct}:${customerId}:${month}`,
  /** Once per spend-cap threshold per customer per month. */
  spendCap: (pct: 50 | 80 | 100, customerId: string, month: string) =>
    `spend-cap:${pct}:${customerId}:${month}`,
  /** Once per loss: named by the minute the quota counters were found missing. */
  quotaCountersLost: (at: Date) => `quota-counters-lost:${at.toISOString().slice(0, 16)}`,
  /** At most once per customer per hour. */
  usageSpike: (customerId: string, at: Date) => `spike:${customerId}:${hourOf(at)}`,
  /** Once per failure streak: name it by its first failed run. */
  syncFailures: (firstFailedRunId: string) => `sync-failures:${firstFailedRunId}`,
  webhookFailure: (eventId: string) => `webhook:${eventId}`,
  paymentFailed: (invoiceId: string) => `payment:${invoiceId}`,
  reconciliationDrift: (month: string, customerId: string, day: Date) =>
    `drift:${month}:${customerId}:${day.toISOString().slice(0, 10)}`,
  invoiceMismatch: (invoiceId: string) => `invoice:${invoiceId}`,
  marginBelowFloor: (customerId: string, month: string) => `margin:${customerId}:${month}`,
  summary: (kind: AlertKind, windowStart: Date) => `suppressed:${kind}:${windowStart.toISOString()}`,
} as const;

export interface QuotaAlertInput {
  customerId: string;
  threshold: 80 | 100;
  /** Billing month `YYYY-MM`; default: the month of `at`. */
  month?: string;
  usedSparks: number | string;
  limitSparks: number | string;
  at?: Date;
}

/** The free tier's 80% / 100% alert, keyed once per threshold per month. */
export function quotaAlert(input: QuotaAlertInput): AlertInput {
  const month = input.month ?? monthOf(input.at ?? new Date());
  const kind: AlertKind = input.threshold === 100 ? "quota_100" : "quota_80";
  const reached = input.threshold === 100 ? "reached its" : "is at 80% of its";
  return {
    kind,
    dedupeKey: alertKeys.quota(input.threshold, input.customerId, month),
    customerId: input.customerId,
    title: `Customer ${input.customerId} ${reached} free quota (${month})`,
    text: `${input.usedSparks} of ${input.limitSparks} Sparks used in ${month}.`,
    data: {
      month,
      threshold: input.threshold,
      usedSparks: String(input.usedSparks),
      limitSparks: String(input.limitSparks),
    },
  };
}

export interface SpendCapAlertInput {
  customerId: string;
  threshold: 50 | 80 | 100;
  month: string;
  usedSparks: number | string;
  capSparks: number | string;
  soft: boolean;
}

/** A paid customer's spend-cap alert (50/80/100%), keyed once per threshold per month. */
export function spendCapAlert(input: SpendCapAlertInput): AlertInput {
  const kind: AlertKind =
    input.threshold === 100 ? "spend_cap_100" : input.threshold === 80 ? "spend_cap_80" : "spend_cap_50";
  const what =
    input.threshold === 100
      ? input.soft
        ? "reached its soft spend cap (usage continues)"
        : "reached its spend cap (usage is refused)"
      : `is at ${input.threshold}% of its spend cap`;
  return {
    kind,
    dedupeKey: alertKeys.spendCap(input.threshold, input.customerId, input.month),
    customerId: input.customerId,
    title: `Customer ${input.customerId} ${what} (${input.month})`,
    text: `${input.usedSparks} of ${input.capSparks} Sparks used in ${input.month} (billed + provisional).`,
    data: {
      month: input.month,
      threshold: input.threshold,
      usedSparks: String(input.usedSparks),
      capSparks: String(input.capSparks),
      soft: input.soft,
    },
  };
}

/** Redis lost the quota counters; they are being rebuilt from the ledger. */
export function quotaCountersLostAlert(input: { at: Date; customers: number; month: string }): AlertInput {
  return {
    kind: "quota_counters_lost",
    dedupeKey: alertKeys.quotaCountersLost(input.at),
    customerId: null,
    title: "Redis lost the quota counters; rebuilt from the Postgres ledger",
    text: `The counters-ready marker was gone (Redis restarted empty, flushed or failed over). ${input.customers} customers' ${input.month} counters were rebuilt from the ledger; /quota answered per each tier's fail policy meanwhile, never used: 0.`,
    data: { month: input.month, customers: input.customers, at: input.at.toISOString() },
  };
}
