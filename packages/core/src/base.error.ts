export interface BaseErrorOptions<TContext extends Record<string, unknown>> {
  /** Whether a later attempt of the same operation can succeed (429, 5xx, timeouts) or not (bad input, config). */
  retryable: boolean;
  /** A stable machine-readable code (snake_case), for logs, answers and tests. */
  code: string;
  /** Facts for an operator (ids, amounts); never secrets. */
  context?: TContext;
  cause?: unknown;
}

/**
 * The one error base of Sparks (Unkey style): every adapter's typed error extends it, so a
 * caller — BullMQ's worker wrapper above all — decides "retry or not" from `retryable` alone,
 * without matching each package's error class by hand.
 */
export class BaseError<TContext extends Record<string, unknown> = Record<string, unknown>> extends Error {
  override readonly name: string = "BaseError";
  readonly retryable: boolean;
  readonly code: string;
  readonly context: TContext | undefined;

  constructor(message: string, options: BaseErrorOptions<TContext>) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
    this.code = options.code;
    this.context = options.context;
  }
}

/** A typed error that says retrying cannot help. Anything else (untyped included) may be retried. */
export function isPermanentError(e: unknown): e is BaseError {
  return e instanceof BaseError && !e.retryable;
}
