import type { AppConfig } from "@sparks/config";
import { createLangfuseReader, type LangfuseReader } from "@sparks/langfuse";
import { createStripeClient } from "@sparks/stripe";
import type Stripe from "stripe";

/**
 * The read side of reconciliation from config alone (Langfuse reader, Stripe client), for
 * callers without the worker's adapters (the API, the CLI). Repairs need the worker's sender.
 */
export function reconcileSourcesFrom(config: AppConfig): {
  langfuse?: LangfuseReader;
  stripeClient?: Stripe;
} {
  const out: { langfuse?: LangfuseReader; stripeClient?: Stripe } = {};
  const lf = config.langfuse;
  if (lf.publicKey && lf.secretKey) {
    out.langfuse = createLangfuseReader({
      baseUrl: lf.baseUrl,
      publicKey: lf.publicKey,
      secretKey: lf.secretKey,
      api: lf.api,
    });
  }
  const { secretKey, apiBase } = config.stripe;
  if (secretKey) out.stripeClient = createStripeClient({ secretKey, apiBase });
  return out;
}
