export interface LangfuseErrorOptions {
  retryable: boolean;
  status?: number;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * A failed Langfuse read. `retryable` tells the job layer whether a later attempt can succeed
 * (429, 5xx, timeouts, connection errors) or an operator must act (bad keys, bad request).
 */
export class LangfuseError extends Error {
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(message: string, options: LangfuseErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LangfuseError";
    this.retryable = options.retryable;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}
