import { BaseError, describeUnstorableText, findUnstorableText } from "@sparks/core";
import Stripe from "stripe";
import { z } from "zod";

/** Stripe's own default: a signature older than this is a replay, not a delivery. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

export type WebhookRejection =
  | "missing_signature"
  | "bad_signature"
  | "stale_signature"
  | "future_signature"
  | "bad_payload";

/**
 * `created` bounds (Unix seconds): Stripe did not exist before 2009, and an event from after
 * 2100 is garbage; both would otherwise become a Date Postgres refuses (a 500, redelivered for days).
 */
const MIN_CREATED_SECONDS = 1_230_768_000; // 2009-01-01
const MAX_CREATED_SECONDS = 4_102_444_800; // 2100-01-01

/** Why a delivery was refused; the API answers 400 with `reason` and stores nothing. */
export class WebhookVerificationError extends BaseError<{ reason: WebhookRejection }> {
  override readonly name = "WebhookVerificationError";
  constructor(
    readonly reason: WebhookRejection,
    message: string,
  ) {
    // The same delivery fails the same way: Stripe's redelivery is the only retry.
    super(message, { retryable: false, code: "webhook_rejected", context: { reason } });
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
  created: z
    .number()
    .int()
    .min(MIN_CREATED_SECONDS, "must be a Unix time in seconds after 2009")
    .max(MAX_CREATED_SECONDS, "must be a Unix time in seconds before 2100"),
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
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  const nowMs = options.nowMs ?? Date.now();
  let parsed: unknown;
  try {
    parsed = Stripe.webhooks.constructEvent(rawBody, signatureHeader, secret, tolerance, undefined, nowMs);
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
  // The SDK only refuses old timestamps; one signed far in the future would stay replayable
  // until then, so it is refused beyond the same tolerance (clock skew allowance).
  const signedAt = signatureTimestamp(signatureHeader);
  if (signedAt !== null && signedAt * 1000 > nowMs + tolerance * 1000) {
    throw new WebhookVerificationError(
      "future_signature",
      `Stripe-Signature timestamp is more than ${tolerance} s in the future`,
    );
  }
  // Postgres cannot store NUL or a lone surrogate (jsonb and text refuse them): refused as a 400
  // naming the field, instead of a 500 Stripe would redeliver for days.
  const unstorable = findUnstorableText(parsed);
  if (unstorable) {
    throw new WebhookVerificationError("bad_payload", describeUnstorableText(unstorable, "body"));
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

/** The `t=` of a Stripe-Signature header (Unix seconds), or null when absent. */
function signatureTimestamp(header: string): number | null {
  for (const part of header.split(",")) {
    const [key, value] = part.split("=", 2);
    if (key?.trim() === "t" && value && /^\d+$/.test(value.trim())) return Number(value.trim());
  }
  return null;
}
