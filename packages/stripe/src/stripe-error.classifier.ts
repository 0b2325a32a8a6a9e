import Stripe from "stripe";
import { StripeCallError } from "./stripe-call.error";

/** Stripe's answer to a reused meter-event identifier: the event was already delivered. */
const DUPLICATE_IDENTIFIER = /an event already exists with identifier/i;

export type ClassifiedStripeError =
  | { kind: "duplicate"; statusCode: number; requestId?: string }
  | { kind: "error"; error: StripeCallError };

function header(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

/** `Retry-After` is seconds or an HTTP date; anything else is ignored. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Sorts any failure of a Stripe call into duplicate (delivered), retryable or permanent.
 * 429 (with or without `Stripe-Should-Retry`), 409, 5xx, timeouts and connection errors are
 * retryable; any other answer is permanent and carries Stripe's own message.
 */
export function classifyStripeError(e: unknown, operation: string): ClassifiedStripeError {
  if (!(e instanceof Stripe.errors.StripeError)) {
    // Not from the SDK (a bug in our own code path, a DNS failure surfaced raw): retrying is
    // the safe default, the identifier makes a resend harmless.
    return {
      kind: "error",
      error: new StripeCallError(
        `${operation} failed: ${errorMessage(e)}`,
        { retryable: true },
        { cause: e },
      ),
    };
  }
  const statusCode = e.statusCode;
  const requestId = e.requestId;
  const ids = requestId === undefined ? {} : { requestId };
  if (statusCode === 400 && DUPLICATE_IDENTIFIER.test(e.message)) {
    return { kind: "duplicate", statusCode, ...ids };
  }
  if (e instanceof Stripe.errors.StripeConnectionError || statusCode === undefined) {
    const timeout = /timeout/i.test(e.message);
    return {
      kind: "error",
      error: new StripeCallError(
        `${operation}: ${timeout ? "timed out" : "connection failed"} (${e.message})`,
        { retryable: true, code: timeout ? "timeout" : "connection_error", ...ids },
        { cause: e },
      ),
    };
  }
  const code = e.code;
  const retryAfterMs = parseRetryAfter(header(e.headers, "retry-after"));
  const retryable = statusCode === 429 || statusCode === 409 || statusCode >= 500;
  return {
    kind: "error",
    error: new StripeCallError(
      `${operation}: Stripe answered ${statusCode}: ${e.message}`,
      {
        retryable,
        statusCode,
        ...(code === undefined ? {} : { code }),
        ...(retryable && retryAfterMs !== undefined ? { retryAfterMs } : {}),
        ...ids,
      },
      { cause: e },
    ),
  };
}
