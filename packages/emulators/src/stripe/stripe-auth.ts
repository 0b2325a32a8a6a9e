import { StripeApiError } from "./stripe-api.error";

const KEY_SHAPE = /^sk_(test|live)_[A-Za-z0-9_]+$/;

export function isSecretKeyShape(key: string): boolean {
  return KEY_SHAPE.test(key);
}

/** The API key of a request: Bearer (what the SDK sends) or Basic with the key as user (curl -u). */
export function presentedKey(header: string | undefined): string | null {
  if (header === undefined || header === "") return null;
  if (header.startsWith("Bearer ")) return header.slice(7).trim();
  if (header.startsWith("Basic ")) {
    const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon === -1 ? decoded : decoded.slice(0, colon);
  }
  return null;
}

function masked(key: string): string {
  return key.length <= 12
    ? key
    : `${key.slice(0, 8)}${"*".repeat(Math.max(4, key.length - 12))}${key.slice(-4)}`;
}

export function unauthorized(key: string | null): StripeApiError {
  const message =
    key === null
      ? "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
      : `Invalid API Key provided: ${masked(key)}`;
  return new StripeApiError(401, { type: "invalid_request_error", message });
}

export function sessionExpired(): StripeApiError {
  return new StripeApiError(401, {
    type: "temporary_session_expired",
    code: "billing_meter_event_session_expired",
    message: "The meter event session has expired or is invalid. Create a new meter event session.",
  });
}
