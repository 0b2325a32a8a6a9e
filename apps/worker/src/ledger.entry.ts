/**
 * The ledger side of the pipeline for the API and the CLI: enqueue syncs, read runs and errors,
 * retry errors. It must never load the Langfuse or Stripe adapters (the API only enqueues and
 * reads); `test/ledger-entry.test.ts` walks this file's import graph to keep it so.
 */
export {
  FINALIZATION_GRACE_MS,
  finalizesAt,
  type RankedError,
  rankErrors,
  URGENT_WITHIN_MS,
  type Urgency,
} from "./ledger/error-ranking";
export { type FailedJobView, listFailedJobs } from "./ledger/failed-jobs";
export { type LedgerDeps, toWorkerDeps } from "./ledger/ledger-deps";
export {
  type LedgerErrors,
  ledgerErrorsJson,
  listLedgerErrors,
  retryLedgerErrors,
} from "./ledger/ledger-errors";
export {
  getSyncRun,
  isFinished,
  type SyncRunDetails,
  type SyncRunItemError,
  type SyncRunPage,
  waitForSyncRun,
} from "./ledger/sync-run.view";
export { errorIdOf } from "./use-cases/error-id";
export {
  type ErrorView,
  listErrors,
  parseErrorId,
  type RetryOutcome,
  retryErrors,
} from "./use-cases/errors.use-case";
export {
  type RequestedSync,
  requestSync,
  type SyncRequestInput,
} from "./use-cases/request-sync.use-case";
