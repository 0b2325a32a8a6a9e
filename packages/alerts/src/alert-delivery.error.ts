/**
 * A channel could not deliver. `retryable` separates "try again later" (timeouts, 5xx, 429)
 * from "retrying cannot help until an operator fixes the configuration" (4xx, bad address).
 */
export class AlertDeliveryError extends Error {
  override readonly name = "AlertDeliveryError";
  constructor(
    readonly channel: string,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(`${channel}: ${message}`, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}
