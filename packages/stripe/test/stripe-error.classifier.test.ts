import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { classifyStripeError, parseRetryAfter, type StripeCallError } from "../src/index";

function apiError(statusCode: number, message: string, headers: Record<string, string> = {}, code?: string) {
  return Stripe.errors.StripeError.generate({
    type: "invalid_request_error",
    message,
    statusCode,
    headers,
    requestId: "req_1",
    ...(code === undefined ? {} : { code }),
  });
}

function errorOf(e: unknown): StripeCallError {
  const c = classifyStripeError(e, "op");
  if (c.kind !== "error") throw new Error(`expected an error, got ${c.kind}`);
  return c.error;
}

describe("classifyStripeError", () => {
  it("treats Stripe's duplicate-identifier answer as delivered", () => {
    const c = classifyStripeError(apiError(400, "An event already exists with identifier compute-t1"), "op");
    expect(c).toEqual({ kind: "duplicate", statusCode: 400, requestId: "req_1" });
  });

  it("retries 429 (honouring Retry-After), 409 and 5xx", () => {
    const limited = errorOf(apiError(429, "Too many requests", { "Retry-After": "2" }, "rate_limit"));
    expect(limited).toMatchObject({
      retryable: true,
      statusCode: 429,
      retryAfterMs: 2_000,
      code: "rate_limit",
    });
    expect(errorOf(apiError(409, "Conflict")).retryable).toBe(true);
    expect(errorOf(apiError(503, "Unavailable")).retryable).toBe(true);
  });

  it("makes any other 4xx permanent, with Stripe's message", () => {
    const e = errorOf(apiError(400, "Invalid value 'x'", { "Retry-After": "2" }));
    expect(e.retryable).toBe(false);
    expect(e.retryAfterMs).toBeUndefined();
    expect(e.message).toBe("op: Stripe answered 400: Invalid value 'x'");
    expect(errorOf(apiError(401, "Invalid API Key")).retryable).toBe(false);
  });

  it("retries errors that did not come from the SDK", () => {
    expect(errorOf(new TypeError("boom"))).toMatchObject({ retryable: true, message: "op failed: boom" });
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, ignores garbage", () => {
    expect(parseRetryAfter("1.5")).toBe(1_500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter("-1")).toBeUndefined();
  });
});
