import { loadConfig } from "@sparks/config";
import { TIER_NAMES } from "@sparks/core";
import { closeAdvisoryLocks, customers as customersTable, executeRows } from "@sparks/db";
import { createStripeEmulator, type LangfuseEmulator } from "@sparks/emulators";
import { QueueService } from "@sparks/queues";
import { createStripeClient, setupStripeCatalog } from "@sparks/stripe";
import { createTestDatabase, createTestRedis } from "@sparks/testing";
import { createPipelineAdapters, createWorkers } from "@sparks/worker";
import pino from "pino";

/**
 * The last leg of `pnpm e2e:flowise`: Sparks' real worker pipeline (its own Postgres database and
 * Redis prefix, like the tests) syncs what Flowise wrote to the Langfuse emulator and sends it to
 * the Stripe emulator through the real `stripe` SDK. Returns the whole Sparks Stripe was told
 * per `customer|event_name`, and the reasons of the quarantined items.
 */
export async function billThroughSparks(
  langfuse: LangfuseEmulator,
  customerRefs: readonly string[],
): Promise<{ totals: Map<string, number>; quarantined: string[] }> {
  const database = await createTestDatabase({ maxConnections: 6 });
  const redis = await createTestRedis();
  const stripe = await createStripeEmulator({ rateLimitPerSecond: 25 });
  const queues = new QueueService({ connection: redis.connection, prefix: redis.prefix });
  const logger = pino({ level: "silent" });
  let runtime: ReturnType<typeof createWorkers> | undefined;
  try {
    const config = loadConfig({
      STRIPE_SECRET_KEY: stripe.secretKey,
      STRIPE_API_BASE: stripe.url,
      STRIPE_AGGREGATION: "off",
      LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
      LANGFUSE_SECRET_KEY: langfuse.secretKey,
      LANGFUSE_BASEURL: langfuse.url,
      LANGFUSE_API: "v2",
      LANGFUSE_LAG: "900",
    });
    const client = createStripeClient({
      secretKey: stripe.secretKey,
      apiBase: { host: stripe.host, port: stripe.port, protocol: "http" },
    });
    await setupStripeCatalog(client, { prefix: "sparks", sparkRateUsd: "0.001", tiers: TIER_NAMES });
    const stripeIds = new Map<string, string>();
    for (const ref of new Set(customerRefs)) {
      const sc = await client.customers.create({ email: `${ref.replace(/\W/g, "_")}@example.com` });
      await database.database.db
        .insert(customersTable)
        .values({ auth0UserId: ref, stripeCustomerId: sc.id, tier: "standard" });
      stripeIds.set(sc.id, ref);
    }
    runtime = createWorkers({
      config,
      database: database.database,
      connection: redis.connection,
      queues,
      logger,
      // The traces are seconds old: run the pipeline's clock past LANGFUSE_LAG.
      now: () => new Date(Date.now() + 20 * 60_000),
      pipeline: { retryBaseMs: 20, lockWaitMs: 60_000 },
      ...createPipelineAdapters({
        config,
        database: database.database,
        connection: redis.connection,
        prefix: redis.prefix,
        logger,
        stripeTimeoutMs: 5_000,
      }),
    });
    const syncId = `sync_e2e${Date.now()}`;
    await queues.add(
      "syncUsage",
      {
        syncId,
        from: new Date(Date.now() - 3600_000).toISOString(),
        to: new Date(Date.now() + 60_000).toISOString(),
        trigger: "manual",
      },
      { jobId: syncId },
    );
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [run] = await executeRows<{ status: string }>(
        database.database.db,
        `select status from sync_runs where id = '${syncId}'`,
      );
      const [pending] = await executeRows<{ n: string }>(
        database.database.db,
        "select count(*)::text as n from usage_items where status in ('pending', 'sending')",
      );
      if (run?.status === "completed" && pending?.n === "0") break;
      if (Date.now() > deadline) throw new Error(`sync ${syncId} did not finish (status ${run?.status})`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // Pushes are queued after the items are written: give the push queue a moment to drain.
    await new Promise((r) => setTimeout(r, 2_000));
    const totals = new Map<string, number>();
    for (const t of stripe.recording.meterTotals()) {
      totals.set(`${stripeIds.get(t.customer) ?? t.customer}|${t.eventName}`, t.value);
    }
    const quarantined = await executeRows<{ reason: string | null }>(
      database.database.db,
      "select reason from usage_items where status = 'quarantined'",
    );
    return { totals, quarantined: quarantined.map((r) => r.reason ?? "") };
  } finally {
    await runtime?.close();
    await queues.close().catch(() => undefined);
    await closeAdvisoryLocks(database.database).catch(() => undefined);
    await redis.cleanup().catch(() => undefined);
    await database.drop().catch(() => undefined);
    await stripe.close();
  }
}
