/**
 * Errors a processor throws. `retryable: false` becomes BullMQ's UnrecoverableError, so the
 * job goes straight to the failed set (the dead-letter store) instead of burning attempts.
 */
export class JobError extends Error {
  override readonly name: string = "JobError";
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
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
