import {
  DEFAULT_JOB_WAIT_MS,
  JobFailedError,
  type JobInput,
  type JobName,
  JobWaitTimeoutError,
  type QueueService,
  waitForJobResult,
} from "@sparks/queues";
import { HttpError, ServiceUnavailableError } from "../errors/http-errors";

/**
 * Work a worker does for a waiting HTTP caller (error retry, reconciliation): enqueue the job
 * and read its result, bounded. No worker in time: 503 `worker_timeout` (the job stays queued
 * and runs when a worker is back); the job failed: 502 with the worker's reason.
 */
export async function runWorkerJob<N extends JobName, T>(
  queues: QueueService,
  name: N,
  input: JobInput<N>,
  timeoutMs: number = DEFAULT_JOB_WAIT_MS,
): Promise<T> {
  const job = await queues.add(name, input);
  try {
    return await waitForJobResult<T>(queues.queue(name), job, { timeoutMs });
  } catch (e) {
    if (e instanceof JobWaitTimeoutError) {
      throw new ServiceUnavailableError(
        "worker_timeout",
        `no worker answered within ${Math.round(timeoutMs / 1000)} s (is \`sparks worker\` running?); the ${name} job ${e.jobId} stays queued`,
      );
    }
    if (e instanceof JobFailedError) throw new HttpError(502, "worker_failed", e.message);
    throw e;
  }
}
