export { type CreateWorkersOptions, createWorkers, type WorkerRuntime } from "./create-workers";
export { createPipelineAdapters, type PipelineAdapterOptions } from "./pipeline-adapters.factory";
export {
  type ProcessorDefinition,
  type ProcessorRegistry,
  processors,
} from "./processors/processor-registry";
export { upsertSchedulers } from "./schedulers";
export { type RunningWorker, type StartWorkerOptions, startWorker } from "./start-worker";
export { errorIdOf } from "./use-cases/error-id";
export {
  type ErrorView,
  listErrors,
  parseErrorId,
  type RetryOutcome,
  retryErrors,
} from "./use-cases/errors.use-case";
export { type PushResult, pushMeterEvents } from "./use-cases/push-meter-events.use-case";
export {
  type RequestedSync,
  requestSync,
  type SyncRequestInput,
} from "./use-cases/request-sync.use-case";
export {
  resolveWindow,
  runSync,
  type SyncRequest,
  type SyncResult,
  sweep,
} from "./use-cases/run-sync.use-case";
export type { PipelineOptions, StripePorts, WorkerDeps } from "./worker-deps";
