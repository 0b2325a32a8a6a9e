import type { AppConfig } from "@sparks/config";
import { createLangfuseReader, type LangfuseReader } from "@sparks/langfuse";
import { createStripeClient, type StripeClient } from "@sparks/stripe";

/**
 * The read side of reconciliation from config alone (Langfuse reader, Stripe client), for
 * callers without the worker's adapters (the API, the CLI). Repairs need the worker's sender.
 */
export function reconcileSourcesFrom(config: AppConfig): {
  langfuse?: LangfuseReader;
  stripeClient?: StripeClient;
} {
  const out: { langfuse?: LangfuseReader; stripeClient?: StripeClient } = {};
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
