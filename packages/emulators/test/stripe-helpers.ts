import Stripe from "stripe";
import type { StripeEmulator } from "../src/stripe/index";

/** The official SDK pointed at an emulator, as Sparks does through STRIPE_API_BASE. */
export function sdkFor(emu: StripeEmulator, extra: Partial<Stripe.StripeConfig> = {}): Stripe {
  return new Stripe(emu.secretKey, {
    host: emu.host,
    port: emu.port,
    protocol: "http",
    maxNetworkRetries: 0,
    telemetry: false,
    ...extra,
  });
}

export async function setupMeteredCatalog(stripe: Stripe, eventName = "sparks_ai_tokens") {
  const meter = await stripe.billing.meters.create({
    display_name: "AI tokens",
    event_name: eventName,
    default_aggregation: { formula: "sum" },
    customer_mapping: { event_payload_key: "stripe_customer_id", type: "by_id" },
    value_settings: { event_payload_key: "value" },
  });
  const product = await stripe.products.create({ name: "Sparks: AI tokens" });
  const price = await stripe.prices.create({
    currency: "usd",
    product: product.id,
    unit_amount_decimal: Stripe.Decimal.from("0.1"),
    recurring: { interval: "month", usage_type: "metered", meter: meter.id },
    lookup_key: `${eventName}_standard`,
  });
  const customer = await stripe.customers.create({
    email: "a@example.com",
    metadata: { sparks_customer_id: "c-1" },
  });
  return { meter, product, price, customer };
}

/** For `.then(unexpected, asStripeError)`: the request must be refused. */
export function unexpected(): never {
  throw new Error("expected the request to be refused");
}

export function asStripeError(e: unknown): Stripe.errors.StripeError {
  if (e instanceof Stripe.errors.StripeError) return e;
  throw e;
}
