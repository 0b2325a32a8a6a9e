import { BaseError } from "@sparks/core";

export interface StripeCallErrorInit {
  retryable: boolean;
  retryAfterMs?: number;
  statusCode?: number;
  code?: string;
  requestId?: string;
}

/**
 * A Stripe call that did not deliver. `retryable` decides the job's fate: true → back off and
 * resend the same identifier and value; false → the item is `failed` with this message and the
 * job goes to the failed set.
 */
export class StripeCallError extends BaseError {
  override readonly name: string = "StripeCallError";
  readonly retryAfterMs?: number;
  readonly statusCode?: number;
  readonly requestId?: string;

  /** `code` is Stripe's error code when it gave one, else `stripe_call_failed`. */
  constructor(message: string, init: StripeCallErrorInit, options?: { cause?: unknown }) {
    super(message, {
      retryable: init.retryable,
      code: init.code ?? "stripe_call_failed",
      cause: options?.cause,
    });
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.statusCode !== undefined) this.statusCode = init.statusCode;
    if (init.requestId !== undefined) this.requestId = init.requestId;
  }
}
