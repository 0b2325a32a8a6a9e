import Stripe from "stripe";
import { z } from "zod";

/** Stripe's own default: a signature older than this is a replay, not a delivery. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export type WebhookRejection = "missing_signature" | "bad_signature" | "stale_signature" | "bad_payload";

/** Why a delivery was refused; the API answers 400 with `reason` and stores nothing. */
export class WebhookVerificationError extends Error {
  override readonly name = "WebhookVerificationError";
  constructor(
    readonly reason: WebhookRejection,
    message: string,
  ) {
    super(message);
  }
}

/** The fields Sparks relies on; everything else stays in `payload` as Stripe sent it. */
export interface VerifiedWebhookEvent {
  id: string;
  type: string;
  /** Stripe's creation time of the event. */
  created: Date;
  livemode: boolean;
  /** The `data.object` of the event (a snapshot: workers re-read state from Stripe). */
  object: Record<string, unknown>;
  /** The whole event, parsed from the verified bytes. */
  payload: Record<string, unknown>;
}

const eventShape = z.object({
  id: z.string().min(1).max(255),
  object: z.literal("event"),
  type: z.string().min(1).max(255),
  created: z.number().int().nonnegative(),
  livemode: z.boolean().default(false),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

export interface VerifyWebhookOptions {
  toleranceSeconds?: number;
  /** The receiver's clock in ms (tests pin it); default `Date.now()`. */
  nowMs?: number;
}

/**
 * Verifies a Stripe webhook with the SDK's static helper (`Stripe.webhooks`: HMAC only, no
 * client, no network) over the exact raw bytes, then checks the event's shape. A signature
 * is checked before the body is even parsed, so an unsigned body never reaches JSON.parse.
 */
export function verifyStripeWebhook(
  rawBody: Buffer,
  signatureHeader: string | undefined,
  secret: string,
  options: VerifyWebhookOptions = {},
): VerifiedWebhookEvent {
  if (signatureHeader === undefined || signatureHeader.trim() === "") {
    throw new WebhookVerificationError("missing_signature", "Stripe-Signature header is missing");
  }
  let parsed: unknown;
  try {
    parsed = Stripe.webhooks.constructEvent(
      rawBody,
      signatureHeader,
      secret,
      options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS,
      undefined,
      options.nowMs ?? Date.now(),
    );
  } catch (e) {
    if (e instanceof Stripe.errors.StripeSignatureVerificationError) {
      const stale = /tolerance/i.test(e.message);
      throw new WebhookVerificationError(
        stale ? "stale_signature" : "bad_signature",
        stale
          ? `Stripe-Signature timestamp is older than ${options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS} s`
          : "Stripe-Signature does not match the body (wrong secret, tampered body or malformed header)",
      );
    }
    // The signature matched but the signed bytes are not JSON.
    throw new WebhookVerificationError("bad_payload", "body: is not valid JSON");
  }
  const event = eventShape.safeParse(parsed);
  if (!event.success) {
    const issue = event.error.issues[0];
    throw new WebhookVerificationError(
      "bad_payload",
      `body.${issue?.path.join(".") || "event"}: ${issue?.message ?? "is not a Stripe event"}`,
    );
  }
  return {
    id: event.data.id,
    type: event.data.type,
    created: new Date(event.data.created * 1000),
    livemode: event.data.livemode,
    object: event.data.data.object,
    payload: parsed as Record<string, unknown>,
  };
}
