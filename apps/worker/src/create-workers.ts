import { createQueueWorker, type JobName } from "@sparks/queues";
import type { Worker } from "bullmq";
import type { ProcessorDefinition, ProcessorRegistry } from "./processors/processor-definition";
import { processors as defaultProcessors } from "./processors/processor-registry";
import type { WorkerDeps } from "./worker-deps";

export interface WorkerRuntime {
  workers: Map<JobName, Worker>;
  close(): Promise<void>;
}

export interface CreateWorkersOptions {
  /** Run only these queues (tests, or scaling one queue apart). */
  only?: JobName[];
  registry?: ProcessorRegistry;
}

export function createWorkers(deps: WorkerDeps, options: CreateWorkersOptions = {}): WorkerRuntime {
  const registry = options.registry ?? defaultProcessors;
  const workers = new Map<JobName, Worker>();
  for (const [name, definition] of Object.entries(registry) as [JobName, ProcessorDefinition<JobName>][]) {
    if (options.only && !options.only.includes(name)) continue;
    const worker = createQueueWorker(name, definition.create(deps), {
      connection: deps.connection,
      prefix: deps.queues.prefix,
      ...definition.options?.(deps),
    });
    worker.on("failed", (job, err) => {
      const final =
        job !== undefined &&
        (err.name === "UnrecoverableError" ||
          job.attemptsMade >= (job.opts.attempts ?? 1) ||
          /stalled/i.test(err.message));
      if (final && job && definition.onFinalFailure) {
        definition
          .onFinalFailure(deps, job, err)
          .catch((e: Error) =>
            deps.logger.error({ queue: name, jobId: job.id, err: e.message }, "final-failure hook failed"),
          );
      }
      deps.logger.warn(
        { queue: name, jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message },
        "job failed",
      );
    });
    worker.on("error", (err) => deps.logger.error({ queue: name, err: err.message }, "worker error"));
    workers.set(name, worker);
  }
  return {
    workers,
    async close() {
      // Worker.close() waits for active jobs to finish, so a SIGTERM never cuts a Stripe call in half.
      await Promise.all([...workers.values()].map((w) => w.close()));
    },
  };
}
