export { type CreateWorkersOptions, createWorkers, type WorkerRuntime } from "./create-workers";
export { createPipelineAdapters, type PipelineAdapterOptions } from "./pipeline-adapters.factory";
export type { ProcessorDefinition, ProcessorRegistry } from "./processors/processor-definition";
export { processors } from "./processors/processor-registry";
export { SCHEDULER_IDS, upsertSchedulers } from "./schedulers";
export { type RunningWorker, type StartWorkerOptions, startWorker } from "./start-worker";
export {
  type CloseMonthOptions,
  type CloseMonthResult,
  closeMonth,
  enqueueDueMonthCloses,
  finalSyncId,
  MONTH_CLOSE_CHECK,
  type StuckCustomer,
} from "./use-cases/close-month.use-case";
export {
  compareInvoices,
  type InvoiceComparison,
  type InvoiceComparisonRow,
} from "./use-cases/compare-invoices.use-case";
export { type PushResult, pushMeterEvents } from "./use-cases/push-meter-events.use-case";
export {
  DEFAULT_DRIFT_THRESHOLD_SPARKS,
  DEFAULT_MARGIN_FLOOR_PERCENT,
  DEFAULT_SETTLE_MS,
  type MarginRow,
  type ReconcileDeps,
  type ReconcileOptions,
  type ReconcileReport,
  type ReconcileRow,
  type RepairAction,
} from "./use-cases/reconcile.types";
export { reconcile } from "./use-cases/reconcile.use-case";
export { reconcileSourcesFrom } from "./use-cases/reconcile-sources.factory";
export {
  PROVISIONAL_OVERLAP_MS,
  type RefreshProvisionalResult,
  refreshProvisionalUsage,
} from "./use-cases/refresh-provisional-usage.use-case";
export {
  invoiceServiceOf,
  monthHoldReason,
  type ReleaseOutcome,
  releaseMonthInvoice,
} from "./use-cases/release-month-invoice.use-case";
export { pruneRetention, type RetentionResult } from "./use-cases/retention.use-case";
export { retryErrors, retryLedgerErrors } from "./use-cases/retry-errors.use-case";
export {
  resolveWindow,
  runSync,
  type SyncRequest,
  type SyncResult,
  sweep,
} from "./use-cases/run-sync.use-case";
export type { PipelineOptions, StripePorts, WorkerDeps } from "./worker-deps";
export { type CreateWorkerDepsOptions, createWorkerDeps } from "./worker-deps.factory";
