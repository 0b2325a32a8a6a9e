import { isPermanentError } from "@sparks/core";
import { type Job, type Processor, UnrecoverableError, Worker, type WorkerOptions } from "bullmq";
import type { Redis } from "ioredis";
import { type JobName, type JobPayload, jobCatalog } from "./job-catalog";
import { InvalidPayloadError } from "./job-errors";

const MAX_FAILED_REASON = 2_000;

function boundedMessage(message: string): string {
  return message.length > MAX_FAILED_REASON
    ? `${message.slice(0, MAX_FAILED_REASON)}… (${message.length - MAX_FAILED_REASON} more characters)`
    : message;
}

export interface QueueWorkerOptions {
  connection: Redis;
  prefix?: string;
  concurrency?: number;
  limiter?: WorkerOptions["limiter"];
  autorun?: boolean;
  lockDuration?: number;
}

export type JobHandler<N extends JobName> = (payload: JobPayload<N>, job: Job) => Promise<unknown>;

/**
 * A BullMQ Worker for one catalog queue. It parses the payload with the catalog's schema and
 * maps typed errors: any non-retryable BaseError (a JobError, a StripeCallError, …) becomes
 * UnrecoverableError — the one place that decides it —, so BullMQ moves the
 * job to the failed set without spending its remaining attempts.
 */
export function createQueueWorker<N extends JobName>(
  name: N,
  handler: JobHandler<N>,
  options: QueueWorkerOptions,
): Worker {
  const entry = jobCatalog[name];
  const processor: Processor = async (job) => {
    const parsed = entry.schema.safeParse(job.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UnrecoverableError(
        new InvalidPayloadError(`${name}: ${issue?.path.join(".") || "payload"}: ${issue?.message}`).message,
      );
    }
    try {
      return await handler(parsed.data as JobPayload<N>, job);
    } catch (e) {
      if (isPermanentError(e)) throw new UnrecoverableError(boundedMessage(e.message));
      // A database error can quote every parameter of a page-sized query: megabytes that would
      // land in Redis as the job's failedReason and in every log line. Keep the head of it.
      if (e instanceof Error && e.message.length > MAX_FAILED_REASON)
        throw new Error(boundedMessage(e.message), { cause: e });
      throw e;
    }
  };
  return new Worker(entry.queue, processor, {
    connection: options.connection,
    prefix: options.prefix ?? "sparks",
    concurrency: options.concurrency ?? 1,
    limiter: options.limiter,
    autorun: options.autorun ?? true,
    lockDuration: options.lockDuration ?? 60_000,
  });
}
