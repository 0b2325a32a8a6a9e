import { BaseError } from "@sparks/core";
import type { Job, Queue } from "bullmq";

/** The default bound of a caller waiting for a worker: under the usual 60 s proxy timeouts. */
export const DEFAULT_JOB_WAIT_MS = 55_000;

/** No worker finished the job within the bound (none running, or all busy). Retrying later may help. */
export class JobWaitTimeoutError extends BaseError<{ queue: string; jobId: string }> {
  override readonly name = "JobWaitTimeoutError";
  constructor(
    readonly queue: string,
    readonly jobId: string,
    readonly waitedMs: number,
  ) {
    super(`no worker finished ${queue} job ${jobId} within ${waitedMs} ms`, {
      retryable: true,
      code: "job_wait_timeout",
      context: { queue, jobId },
    });
  }
}

/** The job failed for good (no attempts left): the worker's reason, for the caller. */
export class JobFailedError extends BaseError<{ queue: string; jobId: string }> {
  override readonly name = "JobFailedError";
  constructor(
    readonly queue: string,
    readonly jobId: string,
    readonly failedReason: string,
  ) {
    super(`${queue} job ${jobId} failed: ${failedReason}`, {
      retryable: false,
      code: "job_failed",
      context: { queue, jobId },
    });
  }
}

export interface WaitForJobResultOptions {
  /** Default DEFAULT_JOB_WAIT_MS. */
  timeoutMs?: number;
  /** First poll interval (default 50 ms), doubling up to 500 ms. */
  pollMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (bounded) for a job a worker runs and returns its result. Polls the job's state
 * rather than subscribing to QueueEvents: no blocking Redis connection per API process, and a
 * result that landed before the first poll is still seen. A failure BullMQ will retry keeps
 * the caller waiting; the final one throws JobFailedError; the bound throws JobWaitTimeoutError.
 */
export async function waitForJobResult<T>(
  queue: Queue,
  job: Job,
  options: WaitForJobResultOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_JOB_WAIT_MS;
  const id = String(job.id);
  const deadline = Date.now() + timeoutMs;
  let pollMs = options.pollMs ?? 50;
  for (;;) {
    // State first, then the job: read the other way round, a job finishing between the two
    // reads looks finished with the hash of before (no return value, no failed reason).
    const state = await queue.getJobState(id);
    if (state === "completed" || state === "failed") {
      const current = await queue.getJob(id);
      if (current && state === "completed") return current.returnvalue as T;
      if (current) throw new JobFailedError(queue.name, id, current.failedReason || "unknown");
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new JobWaitTimeoutError(queue.name, id, timeoutMs);
    await sleep(Math.min(pollMs, left));
    pollMs = Math.min(pollMs * 2, 500);
  }
}
