import { loadConfig } from "@sparks/config";
import { TIER_NAMES } from "@sparks/core";
import { closeAdvisoryLocks, customers as customersTable } from "@sparks/db";
import {
  createLangfuseEmulator,
  createStripeEmulator,
  type LangfuseEmulator,
  type StripeEmulator,
} from "@sparks/emulators";
import { QueueService } from "@sparks/queues";
import { createStripeClient, setupStripeCatalog } from "@sparks/stripe";
import {
  ABUSE_LIMITS_OFF_ENV,
  createTestDatabase,
  createTestRedis,
  type TestDatabase,
} from "@sparks/testing";
import type { ChaosCustomer } from "./expected-usage";

export type ChaosRedis = Awaited<ReturnType<typeof createTestRedis>>;

/** The run's own database, Redis prefix, emulators and Stripe catalog. */
export interface ChaosEnvironment {
  database: TestDatabase;
  redis: ChaosRedis;
  langfuse: LangfuseEmulator;
  stripe: StripeEmulator;
  queues: QueueService;
  /** The env a worker process loads its config from. */
  env: Record<string, string>;
  customers: ChaosCustomer[];
  close(): Promise<void>;
}

/**
 * `options.redis`: a Redis of the caller's own (the `--redis-wipe` phase's private
 * redis-server); by default a prefix of its own on the machine's shared Redis.
 */
export async function createChaosEnvironment(
  customerCount: number,
  options: { redis?: ChaosRedis } = {},
): Promise<ChaosEnvironment> {
  const database = await createTestDatabase({ maxConnections: 6 });
  const redis = options.redis ?? (await createTestRedis());
  const langfuse = await createLangfuseEmulator();
  const stripe = await createStripeEmulator({ rateLimitPerSecond: 0 });
  const env: Record<string, string> = {
    STRIPE_SECRET_KEY: stripe.secretKey,
    STRIPE_API_BASE: stripe.url,
    STRIPE_MAX_RPS: "1500",
    STRIPE_AGGREGATION: "off",
    LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
    LANGFUSE_SECRET_KEY: langfuse.secretKey,
    LANGFUSE_BASEURL: langfuse.url,
    LANGFUSE_API: "v2",
    LANGFUSE_LAG: "900",
    // The load comes from one address and faults stall the event loop on purpose.
    ...ABUSE_LIMITS_OFF_ENV,
  };
  loadConfig(env);
  const client = createStripeClient({
    secretKey: stripe.secretKey,
    apiBase: { host: stripe.host, port: stripe.port, protocol: "http" },
  });
  await setupStripeCatalog(client, { prefix: "sparks", sparkRateUsd: "0.001", tiers: TIER_NAMES });
  const customers: ChaosCustomer[] = [];
  for (let i = 0; i < customerCount; i++) {
    const ref = `cust_${String(i + 1).padStart(4, "0")}`;
    const sc = await client.customers.create({ email: `${ref}@example.com` });
    // Half are named by their Sparks id, half by their Auth0 user id (SPEC §5).
    const values =
      i % 2 === 0
        ? { id: ref, stripeCustomerId: sc.id, tier: "standard" as const }
        : { auth0UserId: ref, stripeCustomerId: sc.id, tier: "standard" as const };
    await database.database.db.insert(customersTable).values(values);
    customers.push({ ref, stripeId: sc.id });
  }
  const queues = new QueueService({ connection: redis.connection, prefix: redis.prefix });
  return {
    database,
    redis,
    langfuse,
    stripe,
    queues,
    env,
    customers,
    async close() {
      await queues.close().catch(() => undefined);
      await closeAdvisoryLocks(database.database).catch(() => undefined);
      await redis.cleanup().catch(() => undefined);
      await database.drop().catch(() => undefined);
      await langfuse.close();
      await stripe.close();
    },
  };
}
