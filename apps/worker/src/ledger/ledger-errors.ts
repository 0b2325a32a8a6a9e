import { listErrors, type RetryOutcome, retryErrors } from "../use-cases/errors.use-case";
import { type RankedError, rankErrors } from "./error-ranking";
import { type FailedJobView, listFailedJobs } from "./failed-jobs";
import { type LedgerDeps, toWorkerDeps } from "./ledger-deps";

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
  const workerDeps = toWorkerDeps(deps);
  const now = deps.now ? deps.now() : new Date();
  const [items, failedJobs] = await Promise.all([
    listErrors(workerDeps, options.limit === undefined ? {} : { limit: options.limit }),
    listFailedJobs(deps.queues, options.failedJobsPerQueue),
  ]);
  return { items: rankErrors(items, now), failedJobs };
}

/** `POST /usage/errors/retry` and `sparks errors retry`: each id's status afterwards. */
export function retryLedgerErrors(deps: LedgerDeps, errorIds: readonly string[]): Promise<RetryOutcome[]> {
  return retryErrors(toWorkerDeps(deps), errorIds);
}
