import Stripe from "stripe";

export interface StripeApiBase {
  host: string;
  port: number;
  protocol: "http" | "https";
}

export interface StripeClientOptions {
  secretKey: string;
  /** `STRIPE_API_BASE` split into host/port/protocol; null talks to Stripe itself. */
  apiBase: StripeApiBase | null;
  /** Per-request timeout (the SDK's default is 80 s, far too long for a worker holding a lock). */
  timeoutMs?: number;
  /**
   * SDK-level retries. Default 0: the push worker owns retries (BullMQ backoff with jitter,
   * the persisted meter-event identifier, the shared rate budget and an audit row per call).
   * SDK retries would bypass all four: they are invisible to the budget and the audit log.
   */
  maxNetworkRetries?: number;
}

export const DEFAULT_STRIPE_TIMEOUT_MS = 20_000;

/** The official SDK, pointed at `STRIPE_API_BASE` when one is configured. */
/** The Stripe SDK client as other packages name it, so only packages/stripe imports `stripe`. */
export type StripeClient = Stripe;

export function createStripeClient(options: StripeClientOptions): Stripe {
  const base = options.apiBase;
  return new Stripe(options.secretKey, {
    timeout: options.timeoutMs ?? DEFAULT_STRIPE_TIMEOUT_MS,
    maxNetworkRetries: options.maxNetworkRetries ?? 0,
    // Stripe's telemetry header reports our request latencies back to Stripe; it is off so an
    // emulator and Stripe see the same requests.
    telemetry: false,
    appInfo: { name: "sparks" },
    ...(base === null ? {} : { host: base.host, port: base.port, protocol: base.protocol }),
  });
}
