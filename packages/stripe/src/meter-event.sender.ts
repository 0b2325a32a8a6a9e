import type Stripe from "stripe";
import { MAX_IDENTIFIER_LENGTH } from "./stripe.naming";
import { StripeCallError } from "./stripe-call.error";
import { classifyStripeError } from "./stripe-error.classifier";

export const METER_EVENT_OPERATION = "billing.meter_events.create";

export interface MeterEventInput {
  eventName: string;
  stripeCustomerId: string;
  /** Whole Sparks; a bigint so a fractional value cannot even be expressed. */
  value: bigint;
  identifier: string;
  /** The usage's time (trace time), sent as Unix seconds. */
  timestamp: Date;
}

export type MeterEventOutcome = "sent" | "duplicate";

export interface MeterEventResult {
  /** `duplicate`: Stripe already holds an event with this identifier — delivered earlier. */
  outcome: MeterEventOutcome;
  durationMs: number;
  statusCode: number;
  requestId?: string;
}

/** One row's worth of `stripe_audit_log`: what was asked and answered, never the API key. */
export interface StripeCallAudit {
  operation: string;
  identifier: string;
  request: { event_name: string; stripe_customer_id: string; value: string; timestamp: number };
  outcome: MeterEventOutcome | "retryable_error" | "permanent_error";
  /** null when no HTTP answer came back (timeout, connection error). */
  statusCode: number | null;
  requestId: string | null;
  durationMs: number;
  error: string | null;
}

export interface MeterEventSenderOptions {
  /** The global rate budget (e.g. `RedisRateLimiter.acquire`), awaited before every HTTP call. */
  acquire?: () => Promise<void>;
  /** Called once per HTTP call, whatever its outcome, before `send` returns or throws. */
  onCall?: (audit: StripeCallAudit) => void | Promise<void>;
  /** Per-call timeout override (the client's own timeout applies otherwise). */
  timeoutMs?: number;
}

/**
 * Refuses, without calling Stripe, what Stripe could only refuse (never worth a retry), and
 * returns the request as the audit log records it.
 */
export function validateMeterEvent(input: MeterEventInput, operation: string): StripeCallAudit["request"] {
  const refuse = (message: string, code: string) =>
    new StripeCallError(`${operation}: ${message}`, { retryable: false, code });
  if (input.value < 0n) throw refuse(`value must not be negative, got ${input.value}`, "negative_value");
  if (input.identifier.length === 0 || input.identifier.length > MAX_IDENTIFIER_LENGTH) {
    throw refuse(`identifier must be 1..${MAX_IDENTIFIER_LENGTH} characters`, "invalid_identifier");
  }
  const ms = input.timestamp.getTime();
  if (Number.isNaN(ms)) throw refuse("timestamp is not a valid date", "invalid_timestamp");
  return {
    event_name: input.eventName,
    stripe_customer_id: input.stripeCustomerId,
    value: input.value.toString(),
    timestamp: Math.floor(ms / 1000),
  };
}

/**
 * Sends one v1 meter event and reports it as delivered, duplicate (also delivered) or a typed
 * `StripeCallError`. It never retries by itself: the caller's retry policy resends the same
 * persisted identifier and value, so Stripe's identifier check makes the resend harmless.
 */
export class MeterEventSender {
  constructor(
    private readonly stripe: Stripe,
    private readonly options: MeterEventSenderOptions = {},
  ) {}

  async send(input: MeterEventInput): Promise<MeterEventResult> {
    const request = validateMeterEvent(input, METER_EVENT_OPERATION);
    await this.options.acquire?.();
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let result: MeterEventResult;
    try {
      const event = await this.stripe.billing.meterEvents.create(
        {
          event_name: request.event_name,
          payload: { stripe_customer_id: request.stripe_customer_id, value: request.value },
          identifier: input.identifier,
          timestamp: request.timestamp,
        },
        // Per request too, so a client built with SDK retries still leaves retries to us here.
        {
          maxNetworkRetries: 0,
          ...(this.options.timeoutMs === undefined ? {} : { timeout: this.options.timeoutMs }),
        },
      );
      result = {
        outcome: "sent",
        durationMs: elapsed(),
        statusCode: event.lastResponse.statusCode,
        requestId: event.lastResponse.requestId,
      };
    } catch (e) {
      const durationMs = elapsed();
      const classified = classifyStripeError(e, METER_EVENT_OPERATION);
      if (classified.kind === "duplicate") {
        result = {
          outcome: "duplicate",
          durationMs,
          statusCode: classified.statusCode,
          ...(classified.requestId === undefined ? {} : { requestId: classified.requestId }),
        };
      } else {
        const error = classified.error;
        await this.audit({
          operation: METER_EVENT_OPERATION,
          identifier: input.identifier,
          request,
          outcome: error.retryable ? "retryable_error" : "permanent_error",
          statusCode: error.statusCode ?? null,
          requestId: error.requestId ?? null,
          durationMs,
          error: error.message,
        });
        throw error;
      }
    }
    await this.audit({
      operation: METER_EVENT_OPERATION,
      identifier: input.identifier,
      request,
      outcome: result.outcome,
      statusCode: result.statusCode,
      requestId: result.requestId ?? null,
      durationMs: result.durationMs,
      error: null,
    });
    return result;
  }

  private async audit(entry: StripeCallAudit): Promise<void> {
    await this.options.onCall?.(entry);
  }
}
