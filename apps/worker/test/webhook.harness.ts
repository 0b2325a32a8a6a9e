import { loadConfig } from "@sparks/config";
import { TIER_NAMES, type TierName, type UsageCategory } from "@sparks/core";
import {
  CustomerRepository,
  type CustomerRow,
  executeRows,
  MeterEventRepository,
  UsageItemRepository,
  WebhookEventRepository,
  type WebhookEventRow,
} from "@sparks/db";
import { createStripeEmulator, type StripeEmulator } from "@sparks/emulators";
import { createRedisConnection, jobId, QueueService } from "@sparks/queues";
import { createStripeClient, meterEventName, priceLookupKey, setupStripeCatalog } from "@sparks/stripe";
import { createTestDatabase, createTestRedis, type TestDatabase } from "@sparks/testing";
import pino from "pino";
import type Stripe from "stripe";
import { createWorkerDeps, createWorkers, type WorkerDeps, type WorkerRuntime } from "../src";

export const PREFIX = "sparks";

/** A mutable clock shared by the emulator (ms) and the worker. */
export interface TestClock {
  ms: number;
}

export interface WebhookHarness {
  clock: TestClock;
  emu: StripeEmulator;
  stripe: Stripe;
  db: TestDatabase;
  deps: WorkerDeps;
  runtime: WorkerRuntime | null;
  startWorkers(): void;
  /** A Sparks customer with a Stripe customer and a flexible subscription on `tier`. */
  addCustomer(tier: TierName): Promise<{ customer: CustomerRow; subscription: Stripe.Subscription }>;
  /** Swaps every item of the subscription to `tier`'s prices (emits subscription.updated). */
  changeTier(subscriptionId: string, tier: TierName): Promise<void>;
  /** What the API does with a verified delivery: store by id, enqueue by id. */
  deliver(event: { id: string; type: string; created: number }): Promise<void>;
  /** The stored event of the emulator's latest event of `type`. */
  latestEvent(type: string): { id: string; type: string; created: number; data: unknown };
  waitForEvent(eventId: string, statuses?: string[]): Promise<WebhookEventRow>;
  /** A sent usage item plus its acknowledged meter event in the ledger, and the event in Stripe. */
  seedSent(
    customer: CustomerRow,
    category: UsageCategory,
    sparks: number,
    at: Date,
    options?: { toStripe?: number | null; status?: "sent" | "pending" },
  ): Promise<void>;
  close(): Promise<void>;
}

let counter = 0;

export async function createWebhookHarness(startMs: number): Promise<WebhookHarness> {
  const clock: TestClock = { ms: startMs };
  const emu = await createStripeEmulator({ now: () => clock.ms, rateLimitPerSecond: 0 });
  const stripe = createStripeClient({
    secretKey: emu.secretKey,
    apiBase: { host: emu.host, port: emu.port, protocol: "http" },
  });
  await setupStripeCatalog(stripe, { prefix: PREFIX, sparkRateUsd: "0.001", tiers: TIER_NAMES });
  const db = await createTestDatabase();
  const testRedis = await createTestRedis();
  const connection = createRedisConnection(testRedis.url, "worker");
  const queues = new QueueService({ connection, prefix: testRedis.prefix });
  const config = loadConfig({
    DATABASE_URL: db.url,
    REDIS_URL: testRedis.url,
    STRIPE_SECRET_KEY: emu.secretKey,
    STRIPE_API_BASE: emu.url,
    STRIPE_METER_PREFIX: PREFIX,
  });
  const deps: WorkerDeps = createWorkerDeps({
    config,
    database: db.database,
    connection,
    queues,
    logger: pino({ level: "silent" }),
    adapters: false,
    now: () => new Date(clock.ms),
  });
  const customers = new CustomerRepository(db.database.db);
  const events = new WebhookEventRepository(db.database.db);
  const prices = new Map<string, string>();
  for await (const p of stripe.prices.list({ limit: 100 })) if (p.lookup_key) prices.set(p.lookup_key, p.id);
  const priceOf = (category: UsageCategory, tier: TierName): string => {
    const id = prices.get(priceLookupKey(PREFIX, category, tier));
    if (!id) throw new Error(`no price for ${category}/${tier}`);
    return id;
  };
  const categories: UsageCategory[] = ["ai_tokens", "compute", "storage"];

  const h: WebhookHarness = {
    clock,
    emu,
    stripe,
    db,
    deps,
    runtime: null,
    startWorkers() {
      h.runtime = createWorkers(deps, { only: ["stripeWebhooks"] });
    },
    async addCustomer(tier) {
      counter += 1;
      const sc = await stripe.customers.create({ email: `c${counter}@example.test` });
      const subscription = await stripe.subscriptions.create({
        customer: sc.id,
        billing_mode: { type: "flexible" },
        items: categories.map((c) => ({ price: priceOf(c, tier) })),
      });
      const customer = await customers.insert({
        auth0UserId: `auth0|wh${counter}-${Math.random().toString(36).slice(2)}`,
        stripeCustomerId: sc.id,
        stripeSubscriptionId: subscription.id,
        tier,
      });
      await executeRows(
        db.database.db,
        `insert into tier_history (customer_id, tier, effective_from, source)
         values ('${customer.id}', '${tier}', '${new Date(clock.ms).toISOString()}', 'signup')`,
      );
      return { customer, subscription };
    },
    async changeTier(subscriptionId, tier) {
      const sub = await stripe.subscriptions.retrieve(subscriptionId);
      await stripe.subscriptions.update(subscriptionId, {
        proration_behavior: "create_prorations",
        items: sub.items.data.map((item) => {
          const category = categories.find((c) => item.price.lookup_key?.startsWith(`${PREFIX}_${c}_`));
          if (!category) throw new Error("unknown item");
          return { id: item.id, price: priceOf(category, tier) };
        }),
      });
    },
    async deliver(event) {
      await events.insertIfNew({
        stripeEventId: event.id,
        type: event.type,
        created: new Date(event.created * 1000),
        payload: event,
      });
      await queues.add("stripeWebhooks", { eventId: event.id }, { jobId: jobId("stripe-event", event.id) });
    },
    latestEvent(type) {
      const found = [...emu.store.events].reverse().find((e) => e.type === type);
      if (!found) throw new Error(`no ${type} event`);
      return found;
    },
    async waitForEvent(eventId, statuses = ["processed", "failed"]) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const row = await events.findById(eventId);
        if (row && statuses.includes(row.status)) return row;
        if (Date.now() > deadline) throw new Error(`event ${eventId} still ${row?.status ?? "missing"}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async seedSent(customer, category, sparks, at, options = {}) {
      counter += 1;
      const traceId = `trace-${counter}`;
      const month = at.toISOString().slice(0, 7);
      const items = new UsageItemRepository(db.database.db);
      await items.insertMany([
        {
          traceId,
          usageCategory: category,
          quantityRevision: 0,
          status: "pending",
          customerId: customer.id,
          customerRef: customer.id,
          month,
          occurredAt: at,
          quantity: String(sparks * 10),
          unit: "tokens",
          rawValue: sparks * 10,
          exactSparks: String(sparks),
          reason: null,
          costCenter: "default",
          tier: customer.tier,
          tierHint: null,
          syncRunId: null,
        },
      ]);
      if (options.status === "pending") return;
      const [item] = (
        await items.lockPendingOfGroup({ customerId: customer.id, category, month }, 1000)
      ).filter((i) => i.traceId === traceId);
      if (!item) throw new Error("seeded item not found");
      const identifier = `${category}-${traceId}`;
      const meter = new MeterEventRepository(db.database.db);
      const [meterEventId] = await meter.insertMany([
        {
          identifier,
          customerId: customer.id,
          stripeCustomerId: customer.stripeCustomerId ?? "",
          usageCategory: category,
          eventName: meterEventName(PREFIX, category),
          month,
          value: sparks,
          eventTimestamp: at,
          aggregated: false,
          itemCount: 1,
        },
      ]);
      if (meterEventId === undefined) throw new Error("meter event not inserted");
      await items.assign([{ itemId: item.id, meterEventId, sentSparks: sparks, identifier }]);
      await meter.markSent(meterEventId, {});
      await items.markSentByMeterEvent(meterEventId);
      const toStripe = options.toStripe === undefined ? sparks : options.toStripe;
      if (toStripe !== null) {
        await stripe.billing.meterEvents.create({
          event_name: meterEventName(PREFIX, category),
          identifier,
          timestamp: Math.floor(at.getTime() / 1000),
          payload: { stripe_customer_id: customer.stripeCustomerId ?? "", value: String(toStripe) },
        });
      }
    },
    async close() {
      await h.runtime?.close();
      await queues.close();
      await connection.quit().catch(() => connection.disconnect());
      await testRedis.cleanup();
      await db.drop();
      await emu.close();
    },
  };
  return h;
}
