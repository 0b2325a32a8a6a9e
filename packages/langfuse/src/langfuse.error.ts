import { BaseError } from "@sparks/core";

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
export class LangfuseError extends BaseError {
  override readonly name: string = "LangfuseError";
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(message: string, options: LangfuseErrorOptions) {
    super(message, {
      retryable: options.retryable,
      code: options.status === undefined ? "langfuse_unreachable" : `langfuse_http_${options.status}`,
      cause: options.cause,
    });
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}
