export { type CreateWorkersOptions, createWorkers, type WorkerRuntime } from "./create-workers";
export {
  type ProcessorDefinition,
  type ProcessorRegistry,
  processors,
} from "./processors/processor-registry";
export type { WorkerDeps } from "./worker-deps";
