import { createHmac } from "node:crypto";

/** `Stripe-Signature` for a raw body: `t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>")`. */
export function signPayload(rawBody: string, secret: string, timestampSec: number): string {
  const v1 = createHmac("sha256", secret).update(`${timestampSec}.${rawBody}`, "utf8").digest("hex");
  return `t=${timestampSec},v1=${v1}`;
}

export interface WebhookDelivery {
  url: string;
  eventId: string;
  type: string;
  status: number | null;
  error: string | null;
  body: string;
  signature: string;
}

/** POSTs an event as Stripe does: JSON body, `Stripe-Signature`, a Stripe user agent. */
export async function deliverWebhook(
  url: string,
  event: { id: string; type: string },
  secret: string,
  timestampSec: number,
): Promise<WebhookDelivery> {
  const body = JSON.stringify(event, null, 2);
  const signature = signPayload(body, secret, timestampSec);
  const delivery: WebhookDelivery = {
    url,
    eventId: event.id,
    type: event.type,
    status: null,
    error: null,
    body,
    signature,
  };
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json; charset=utf-8",
        "stripe-signature": signature,
        "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
      },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    delivery.status = res.status;
    await res.arrayBuffer();
  } catch (err) {
    delivery.error = err instanceof Error ? err.message : String(err);
  }
  return delivery;
}
