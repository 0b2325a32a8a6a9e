export { type CreateWorkersOptions, createWorkers, type WorkerRuntime } from "./create-workers";
export {
  type ProcessorDefinition,
  type ProcessorRegistry,
  processors,
} from "./processors/processor-registry";
export { upsertSchedulers } from "./schedulers";
export { type RunningWorker, type StartWorkerOptions, startWorker } from "./start-worker";
export type { WorkerDeps } from "./worker-deps";
