import type { JobHandler, JobName, QueueWorkerOptions } from "@sparks/queues";
import type { Job } from "bullmq";
import type { WorkerDeps } from "../worker-deps";

/**
 * What one queue's processor file exports. It lives apart from the registry so the processors
 * and the registry that lists them do not import each other.
 */
export interface ProcessorDefinition<N extends JobName> {
  create(deps: WorkerDeps): JobHandler<N>;
  /** Called once BullMQ will not try the job again (attempts spent, unrecoverable, stalled). */
  onFinalFailure?(deps: WorkerDeps, job: Job, error: Error): Promise<void>;
  options?(deps: WorkerDeps): Partial<Pick<QueueWorkerOptions, "concurrency" | "limiter" | "lockDuration">>;
}

/**
 * One processor per queue of the job catalog, every one required: a queue added to the
 * catalog without a processor is a compile error here, not a queue that silently fills up.
 */
export type ProcessorRegistry = { [N in JobName]: ProcessorDefinition<N> };
