import { type RankedError, rankErrors } from "./error-ranking";
import { listErrors } from "./errors.view";
import { type FailedJobView, listFailedJobs } from "./failed-jobs";
import type { LedgerDeps } from "./ledger-deps";

export interface LedgerErrors {
  /** Failed, quarantined and discrepancy items, most urgent and most money first. */
  items: RankedError[];
  /** BullMQ's failed jobs on every queue (the error log). */
  failedJobs: FailedJobView[];
}

/** `GET /usage/errors` and `sparks errors list`. */
export async function listLedgerErrors(
  deps: LedgerDeps,
  options: { limit?: number; failedJobsPerQueue?: number } = {},
): Promise<LedgerErrors> {
  const now = deps.now ? deps.now() : new Date();
  const [items, failedJobs] = await Promise.all([
    listErrors(deps, options.limit === undefined ? {} : { limit: options.limit }),
    listFailedJobs(deps.queues, options.failedJobsPerQueue),
  ]);
  return { items: rankErrors(items, now), failedJobs };
}

/**
 * The stable JSON shape of the error list, shared by `GET /usage/errors` and
 * `sparks errors list --json`, so both answer the same thing.
 */
export function ledgerErrorsJson({ items, failedJobs }: LedgerErrors) {
  return {
    items: items.map((e) => ({
      error_id: e.errorId,
      status: e.status,
      reason: e.reason,
      attempts: e.attempts,
      next_retry_at: e.nextRetryAt?.toISOString() ?? null,
      amount_at_risk: e.amountAtRisk,
      urgency: e.urgency,
      finalizes_at: e.finalizesAt.toISOString(),
      trace_id: e.traceId,
      usage_category: e.usageCategory,
      customer_id: e.customerId,
      customer_ref: e.customerRef,
      month: e.month,
      occurred_at: e.occurredAt.toISOString(),
    })),
    failed_jobs: failedJobs.map((j) => ({
      queue: j.queue,
      job_id: j.jobId,
      name: j.name,
      failed_reason: j.failedReason,
      attempts_made: j.attemptsMade,
      failed_at: j.failedAt?.toISOString() ?? null,
      error_ids: j.errorIds,
    })),
  };
}
