import { createStripeEmulator, type StripeEmulator, type StripeEmulatorOptions } from "@sparks/emulators";
import type Stripe from "stripe";
import { createStripeClient, type StripeClientOptions } from "../src/index";

/** An emulator and the official SDK pointed at it the way production builds it. */
export async function startStripe(
  options: StripeEmulatorOptions = {},
  client: Partial<StripeClientOptions> = {},
): Promise<{ emulator: StripeEmulator; stripe: Stripe }> {
  const emulator = await createStripeEmulator(options);
  const stripe = createStripeClient({
    secretKey: emulator.secretKey,
    apiBase: { host: emulator.host, port: emulator.port, protocol: "http" },
    ...client,
  });
  return { emulator, stripe };
}

/** A meter with the SPEC §3 payload keys and one customer to bill. */
export async function meterAndCustomer(stripe: Stripe, eventName: string): Promise<string> {
  await stripe.billing.meters.create({
    display_name: eventName,
    event_name: eventName,
    default_aggregation: { formula: "sum" },
    customer_mapping: { event_payload_key: "stripe_customer_id", type: "by_id" },
    value_settings: { event_payload_key: "value" },
  });
  const customer = await stripe.customers.create({ email: "billing@example.com" });
  return customer.id;
}
