import { USAGE_CATEGORIES } from "@sparks/core";
import type { DefaultJobOptions } from "bullmq";
import { z } from "zod";

const isoDate = z.iso.datetime({ offset: true });
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be YYYY-MM");

// Failed jobs are the error log (SPEC: "BullMQ's backoff and dead-letter handling is the
// operator's error log"), so they are kept far longer than completed ones.
const keepFailed = { age: 60 * 24 * 3600, count: 50_000 };
const keepCompleted = { age: 24 * 3600, count: 5_000 };

function defaults(attempts: number, delayMs: number): DefaultJobOptions {
  return {
    attempts,
    backoff: { type: "exponential", delay: delayMs, jitter: 0.5 },
    removeOnComplete: keepCompleted,
    removeOnFail: keepFailed,
  };
}

/**
 * The one job catalog: each queue's name, payload schema and default job options.
 * Producers and processors both go through it, so a payload is validated on the way in and
 * on the way out.
 */
export const jobCatalog = {
  syncUsage: {
    queue: "sync-usage",
    schema: z.object({
      syncId: z.string().min(1),
      from: isoDate.optional(),
      to: isoDate.optional(),
      customerId: z.string().min(1).nullable().default(null),
      trigger: z.enum(["schedule", "manual", "backfill", "month-close"]).default("manual"),
    }),
    defaults: defaults(5, 5_000),
  },
  pushMeterEvents: {
    queue: "push-meter-events",
    schema: z.object({
      customerId: z.string().min(1),
      category: z.enum(USAGE_CATEGORIES),
      month,
    }),
    defaults: defaults(10, 1_000),
  },
  stripeWebhooks: {
    queue: "stripe-webhooks",
    schema: z.object({ eventId: z.string().min(1) }),
    defaults: defaults(8, 2_000),
  },
  alerts: {
    queue: "alerts",
    schema: z.object({
      kind: z.string().min(1),
      dedupeKey: z.string().min(1),
      customerId: z.string().nullable().default(null),
      title: z.string().min(1),
      text: z.string(),
      data: z.record(z.string(), z.unknown()).default({}),
    }),
    defaults: defaults(6, 10_000),
  },
  monthClose: {
    queue: "month-close",
    schema: z.object({ month }),
    defaults: defaults(12, 60_000),
  },
  reconcile: {
    queue: "reconcile",
    schema: z.object({
      month,
      repair: z.boolean().default(true),
      // An API read (`GET /usage/reconciliation`): the job returns the whole report as its
      // result instead of a summary, and the API reads it back (see waitForJobResult).
      report: z.boolean().default(false),
    }),
    defaults: defaults(3, 60_000),
  },
  retryErrors: {
    queue: "retry-errors",
    // `POST /usage/errors/retry` and `sparks errors retry`: the worker re-derives quarantined
    // traces and re-queues failed groups; the caller reads each id's new status from the result.
    schema: z.object({ errorIds: z.array(z.string().min(1).max(100)).min(1).max(500) }),
    // One attempt: a retry is the operator's own action, answered while they wait; a failure
    // is reported to them rather than repeated behind their back.
    defaults: defaults(1, 1_000),
  },
  retention: {
    queue: "retention",
    schema: z.object({}).default({}),
    defaults: defaults(3, 60_000),
  },
  // Every QUOTA_REFRESH_SECONDS: the open Langfuse window into provisional quota counters. The
  // next run comes seconds later, so a failed run is not retried and few runs are kept.
  quotaRefresh: {
    queue: "quota-refresh",
    schema: z.object({}).default({}),
    defaults: {
      attempts: 1,
      removeOnComplete: { age: 3600, count: 100 },
      removeOnFail: { age: 24 * 3600, count: 1_000 },
    },
  },
} as const;

export type JobCatalog = typeof jobCatalog;
export type JobName = keyof JobCatalog;
export type JobPayload<N extends JobName> = z.output<JobCatalog[N]["schema"]>;
export type JobInput<N extends JobName> = z.input<JobCatalog[N]["schema"]>;
export const JOB_NAMES = Object.keys(jobCatalog) as JobName[];

/**
 * BullMQ silently ignores a job whose custom id matches one it still keeps, and ids may not
 * contain ':'. Use a custom id only where a repeat must be a no-op.
 */
export function jobId(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9_.@-]/g, "_")).join("-");
}
