import { generateFlowiseTraffic } from "../langfuse/flowise-traffic.generator";
import { createLangfuseEmulator, type LangfuseEmulator } from "../langfuse/langfuse.emulator";
import { createStripeEmulator, type StripeEmulator } from "../stripe/stripe.emulator";

export interface DemoEmulatorOptions {
  langfusePort?: number;
  stripePort?: number;
  /** Demo traces to seed (spread over the last `days`); default 600. */
  traces?: number;
  /** Demo customer ids used as `customer_id` in traces; default 5 Auth0-style ids. */
  customers?: readonly string[];
  days?: number;
  /** Where the Stripe emulator delivers webhooks (e.g. Sparks' `/stripe/webhook`). */
  webhookUrl?: string;
  now?: () => Date;
  seed?: number;
}

export interface DemoEmulators {
  langfuse: LangfuseEmulator;
  stripe: StripeEmulator;
  customers: readonly string[];
  /** `NAME=value` pairs that point Sparks at the emulators. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export const DEMO_CUSTOMERS: readonly string[] = [
  "auth0|demo-ada",
  "auth0|demo-grace",
  "auth0|demo-linus",
  "auth0|demo-margaret",
  "auth0|demo-ken",
];

// Fixed demo credentials: they only ever open local emulators.
const DEMO_LANGFUSE_PUBLIC = "pk-lf-sparks-demo";
const DEMO_LANGFUSE_SECRET = "sk-lf-sparks-demo";
const DEMO_STRIPE_SECRET = "sk_test_sparks_demo_key";
const DEMO_WEBHOOK_SECRET = "whsec_sparks_demo_secret";

/**
 * Starts a Langfuse-compatible and a Stripe-compatible server seeded with Flowise-like demo
 * traffic, for `sparks emulate` and for `sparks start` without accounts.
 */
export async function startDemoEmulators(options: DemoEmulatorOptions = {}): Promise<DemoEmulators> {
  const now = options.now ?? (() => new Date());
  const customers = options.customers ?? DEMO_CUSTOMERS;
  const days = options.days ?? 2;
  const langfuse = await createLangfuseEmulator({
    port: options.langfusePort ?? 0,
    publicKey: DEMO_LANGFUSE_PUBLIC,
    secretKey: DEMO_LANGFUSE_SECRET,
    now,
  });
  let stripe: StripeEmulator;
  try {
    stripe = await createStripeEmulator({
      port: options.stripePort ?? 0,
      secretKey: DEMO_STRIPE_SECRET,
      webhookSecret: DEMO_WEBHOOK_SECRET,
      webhookUrl: options.webhookUrl,
      now: () => now().getTime(),
    });
  } catch (e) {
    await langfuse.close();
    throw e;
  }
  const to = now().getTime();
  langfuse.store.addMany(
    generateFlowiseTraffic({
      traces: options.traces ?? 600,
      customers,
      from: new Date(to - days * 24 * 3600_000),
      to: new Date(to - 60_000),
      seed: options.seed ?? 7,
      badShare: 0.03,
    }),
  );
  return {
    langfuse,
    stripe,
    customers,
    env: {
      LANGFUSE_BASEURL: langfuse.url,
      LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
      LANGFUSE_SECRET_KEY: langfuse.secretKey,
      STRIPE_API_BASE: stripe.url,
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
    },
    async close() {
      await Promise.allSettled([langfuse.close(), stripe.close()]);
    },
  };
}
