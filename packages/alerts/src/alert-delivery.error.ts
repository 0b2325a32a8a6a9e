import { BaseError } from "@sparks/core";

/**
 * A channel could not deliver. `retryable` separates "try again later" (timeouts, 5xx, 429)
 * from "retrying cannot help until an operator fixes the configuration" (4xx, bad address).
 */
export class AlertDeliveryError extends BaseError<{ channel: string }> {
  override readonly name: string = "AlertDeliveryError";
  constructor(
    readonly channel: string,
    message: string,
    retryable: boolean,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(`${channel}: ${message}`, {
      retryable,
      code: "alert_delivery_failed",
      context: { channel },
      cause: options?.cause,
    });
    this.retryAfterMs = options?.retryAfterMs;
  }
  readonly retryAfterMs: number | undefined;
}
