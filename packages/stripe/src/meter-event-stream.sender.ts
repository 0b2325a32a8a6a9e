import Stripe from "stripe";
import { type MeterEventInput, type StripeCallAudit, validateMeterEvent } from "./meter-event.sender";
import { StripeCallError } from "./stripe-call.error";
import { classifyStripeError } from "./stripe-error.classifier";

export const METER_EVENT_STREAM_OPERATION = "v2.billing.meter_event_stream.create";
/** Stripe takes at most 100 events per stream call. */
export const MAX_STREAM_EVENTS = 100;
/** A session is renewed this long before Stripe says it expires (tokens live 15 minutes). */
const SESSION_RENEW_MARGIN_MS = 60_000;

export interface MeterEventStreamSenderOptions {
  /** The shared rate budget, awaited once per HTTP call (a call carries up to 100 events). */
  acquire?: () => Promise<void>;
  /** Called once per event of every call (the audit log is per event), whatever the outcome. */
  onCall?: (audit: StripeCallAudit) => void | Promise<void>;
  /** A client authenticated with a session token, pointed where the main client points. */
  streamClient: (authenticationToken: string) => Stripe;
  timeoutMs?: number;
}

export interface StreamBatchResult {
  durationMs: number;
  statusCode: number;
}

/** The SDK's event shape (its namespace type is not exported from the package root). */
type StreamEvents = Parameters<Stripe["v2"]["billing"]["meterEventStream"]["create"]>[0]["events"];

interface Session {
  client: Stripe;
  renewAt: number;
}

/**
 * Sends meter events through Stripe's v2 high-throughput stream: a session token (created with
 * the secret key, valid 15 minutes, renewed ahead of time and whenever Stripe says it expired)
 * and up to 100 events per call. Stripe validates stream events asynchronously and drops a
 * repeated identifier silently, so a 200 means "taken": the same persisted identifiers make a
 * resend after any failure harmless. Like the v1 sender, it never retries by itself.
 */
export class MeterEventStreamSender {
  private session: Promise<Session> | null = null;

  constructor(
    private readonly stripe: Stripe,
    private readonly options: MeterEventStreamSenderOptions,
  ) {}

  async sendBatch(inputs: readonly MeterEventInput[]): Promise<StreamBatchResult> {
    if (inputs.length === 0 || inputs.length > MAX_STREAM_EVENTS) {
      throw new StripeCallError(
        `${METER_EVENT_STREAM_OPERATION}: a call takes 1..${MAX_STREAM_EVENTS} events, got ${inputs.length}`,
        { retryable: false, code: "invalid_batch" },
      );
    }
    const requests = inputs.map((input) => validateMeterEvent(input, METER_EVENT_STREAM_OPERATION));
    const events = requests.map((r, i) => ({
      event_name: r.event_name,
      identifier: (inputs[i] as MeterEventInput).identifier,
      timestamp: new Date(r.timestamp * 1000).toISOString(),
      payload: { stripe_customer_id: r.stripe_customer_id, value: r.value },
    }));
    await this.options.acquire?.();
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      await this.call(events);
    } catch (e) {
      const durationMs = elapsed();
      const classified = classifyStripeError(e, METER_EVENT_STREAM_OPERATION);
      const error =
        classified.kind === "error"
          ? classified.error
          : new StripeCallError(`${METER_EVENT_STREAM_OPERATION}: unexpected duplicate answer`, {
              retryable: true,
            });
      await this.audit(inputs, requests, {
        outcome: error.retryable ? "retryable_error" : "permanent_error",
        statusCode: error.statusCode ?? null,
        requestId: error.requestId ?? null,
        durationMs,
        error: error.message,
      });
      throw error;
    }
    const durationMs = elapsed();
    await this.audit(inputs, requests, {
      outcome: "sent",
      statusCode: 200,
      requestId: null,
      durationMs,
      error: null,
    });
    return { durationMs, statusCode: 200 };
  }

  /** One stream call; a session Stripe calls expired is replaced and the call made once more. */
  private async call(events: StreamEvents): Promise<void> {
    const options = {
      maxNetworkRetries: 0,
      ...(this.options.timeoutMs === undefined ? {} : { timeout: this.options.timeoutMs }),
    };
    for (let attempt = 0; ; attempt++) {
      const session = await this.currentSession();
      try {
        await session.client.v2.billing.meterEventStream.create({ events }, options);
        return;
      } catch (e) {
        if (!(e instanceof Stripe.errors.TemporarySessionExpiredError) || attempt > 0) throw e;
        this.session = null;
      }
    }
  }

  private currentSession(): Promise<Session> {
    const current = this.session;
    if (current) {
      return current.then((s) => {
        if (Date.now() < s.renewAt) return s;
        if (this.session === current) this.session = null;
        return this.currentSession();
      });
    }
    const created = this.stripe.v2.billing.meterEventSession.create().then((s) => ({
      client: this.options.streamClient(s.authentication_token),
      renewAt: Date.parse(s.expires_at) - SESSION_RENEW_MARGIN_MS,
    }));
    this.session = created;
    // A failed creation must not be cached: the next call tries again.
    created.catch(() => {
      if (this.session === created) this.session = null;
    });
    return created;
  }

  private async audit(
    inputs: readonly MeterEventInput[],
    requests: ReadonlyArray<StripeCallAudit["request"]>,
    answer: Omit<StripeCallAudit, "operation" | "identifier" | "request">,
  ): Promise<void> {
    const onCall = this.options.onCall;
    if (!onCall) return;
    await Promise.all(
      inputs.map((input, i) =>
        onCall({
          operation: METER_EVENT_STREAM_OPERATION,
          identifier: input.identifier,
          request: requests[i] as StripeCallAudit["request"],
          ...answer,
        }),
      ),
    );
  }
}
