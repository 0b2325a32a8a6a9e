/**
 * The ledger as the API, the CLI and the worker share it: request a sync, read sync runs and
 * ledger errors, queue push jobs. Postgres and BullMQ only: it never loads the Langfuse or
 * Stripe adapters (the API only enqueues and reads; workers do the rest).
 */

export { errorIdOf } from "./error-id";
export {
  FINALIZATION_GRACE_MS,
  finalizesAt,
  type RankedError,
  rankErrors,
  URGENT_WITHIN_MS,
  type Urgency,
} from "./error-ranking";
export {
  type ErrorListDeps,
  type ErrorView,
  listErrors,
  parseErrorId,
  type RetryOutcome,
} from "./errors.view";
export { type FailedJobView, listFailedJobs } from "./failed-jobs";
export type { LedgerDeps } from "./ledger-deps";
export { type LedgerErrors, ledgerErrorsJson, listLedgerErrors } from "./ledger-errors";
export { enqueuePush, pushDedupeId } from "./push-jobs";
export { QuotaCountersGuard, type QuotaCountersGuardDeps, type RebuildResult } from "./quota-counters.guard";
export {
  DEAD_RUN_MIN_AGE_MS,
  failDeadSyncRuns,
  type RequestedSync,
  requestSync,
  SyncQueueUnavailableError,
  type SyncRequestInput,
} from "./request-sync.use-case";
export {
  getSyncRun,
  isFinished,
  type SyncRunDetails,
  type SyncRunItemError,
  type SyncRunPage,
  waitForSyncRun,
} from "./sync-run.view";
