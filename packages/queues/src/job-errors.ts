import { BaseError } from "@sparks/core";

/**
 * Errors a processor throws. `retryable: false` becomes BullMQ's UnrecoverableError, so the
 * job goes straight to the failed set (the dead-letter store) instead of burning attempts.
 */
export class JobError extends BaseError {
  override readonly name: string = "JobError";
  constructor(message: string, retryable: boolean, options?: { cause?: unknown; code?: string }) {
    super(message, {
      retryable,
      code: options?.code ?? (retryable ? "job_retryable" : "job_permanent"),
      cause: options?.cause,
    });
  }
}

export class RetryableJobError extends JobError {
  override readonly name: string = "RetryableJobError";
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, true, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}

export class PermanentJobError extends JobError {
  override readonly name: string = "PermanentJobError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, false, options);
  }
}

/** The payload did not match the catalog's schema: retrying cannot help. */
export class InvalidPayloadError extends PermanentJobError {
  override readonly name: string = "InvalidPayloadError";
}
