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
export class StripeCallError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly statusCode?: number;
  readonly code?: string;
  readonly requestId?: string;

  constructor(message: string, init: StripeCallErrorInit, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StripeCallError";
    this.retryable = init.retryable;
    if (init.retryAfterMs !== undefined) this.retryAfterMs = init.retryAfterMs;
    if (init.statusCode !== undefined) this.statusCode = init.statusCode;
    if (init.code !== undefined) this.code = init.code;
    if (init.requestId !== undefined) this.requestId = init.requestId;
  }
}
