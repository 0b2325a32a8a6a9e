import type { AppConfig } from "@sparks/config";
import {
  createStripeClient,
  StripeCallError,
  StripeCustomerService,
  StripeSubscriptionService,
  type TierPrices,
} from "@sparks/stripe";
import { HttpError, ServiceUnavailableError } from "../errors/http-errors";

export interface BillingStripe {
  customers: StripeCustomerService;
  subscriptions: StripeSubscriptionService;
  /** The client itself, for the customer's own prices (negotiated rates). */
  client: ReturnType<typeof createStripeClient>;
  meterPrefix: string;
}

/**
 * The Stripe services the customer endpoints use, or null without STRIPE_SECRET_KEY. Unlike
 * the meter-event worker, these calls let the SDK retry (twice): every write carries an
 * idempotency key that the SDK reuses on its retries, and a request is waiting.
 */
export function createBillingStripe(config: AppConfig): BillingStripe | null {
  if (!config.stripe.secretKey) return null;
  const stripe = createStripeClient({
    secretKey: config.stripe.secretKey,
    apiBase: config.stripe.apiBase,
    timeoutMs: 10_000,
    maxNetworkRetries: 2,
  });
  return {
    customers: new StripeCustomerService(stripe),
    subscriptions: new StripeSubscriptionService(stripe, config.stripe.meterPrefix),
    client: stripe,
    meterPrefix: config.stripe.meterPrefix,
  };
}

export function requireBillingStripe(stripe: BillingStripe | null): BillingStripe {
  if (stripe === null) {
    throw new ServiceUnavailableError(
      "stripe_not_configured",
      "set STRIPE_SECRET_KEY to link customers to Stripe",
    );
  }
  return stripe;
}

/** A tier whose prices are missing cannot be subscribed to: the operator must run the setup. */
export function requireAllPrices(prices: TierPrices): TierPrices {
  if (prices.missing.length > 0) {
    throw new ServiceUnavailableError(
      "stripe_catalog_missing",
      `no active Stripe price with lookup key ${prices.missing.join(", ")}; run \`sparks stripe:setup\``,
    );
  }
  return prices;
}

/** Stripe failures as HTTP answers: retryable ones 503 (try again), others 502 with Stripe's message. */
export function stripeFailure(e: unknown): unknown {
  if (!(e instanceof StripeCallError)) return e;
  if (e.retryable)
    return new ServiceUnavailableError("stripe_unavailable", `Stripe did not answer: ${e.message}`);
  return new HttpError(502, "stripe_error", `Stripe refused the request: ${e.message}`);
}
