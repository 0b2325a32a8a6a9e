import { type AppConfig, loadConfig } from "@sparks/config";
import { monthRange, TIER_NAMES, type TierName } from "@sparks/core";
import { closeAdvisoryLocks, executeRows } from "@sparks/db";
import {
  createLangfuseEmulator,
  createStripeEmulator,
  type LangfuseEmulator,
  type StripeEmulator,
} from "@sparks/emulators";
import { createRedisConnection, QueueService } from "@sparks/queues";
import { createStripeClient, setupStripeCatalog } from "@sparks/stripe";
import {
  createTestAuth0,
  createTestDatabase,
  createTestRedis,
  type TestAuth0,
  type TestDatabase,
} from "@sparks/testing";
import {
  type CloseMonthResult,
  closeMonth,
  createWorkerDeps,
  createWorkers,
  enqueueDueMonthCloses,
  type WorkerDeps,
  type WorkerRuntime,
} from "@sparks/worker";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import pino from "pino";
import { buildApp } from "../src";
import { TEST_LIMITS_ENV } from "./test-limits.env";

/**
 * The invoice-level harness (issue 14): the real API (webhook route, `/usage/report`), Sparks'
 * real workers (sync, push, Stripe webhooks, month close, alerts), real Postgres and Redis, the
 * Langfuse and Stripe emulators — all on ONE virtual clock, so a test walks through month ends
 * in seconds. Stripe is driven only through the official SDK and the emulator's own clock;
 * Stripe's events reach Sparks signed, through `POST /stripe/webhook`, in order.
 *
 * Reusable by other suites (corrections, negotiated rate): `signup`, `trace`, `sync`,
 * `advanceTo`, `monthEnd`, `finalInvoice`, `report`, and `expectedFromTraces` (the independent
 * calculation, which never calls Sparks' pricing code).
 */

const MIN = 60_000;

/** The official SDK client (apps/api does not depend on `stripe` directly). */
type StripeClient = ReturnType<typeof createStripeClient>;
export type StripeInvoice = Omit<Awaited<ReturnType<StripeClient["invoices"]["retrieve"]>>, "lastResponse">;
export const ACTION_SECRET = "invoice-harness-action-secret-0123456789";

export interface InvoiceHarnessOptions {
  /** STRIPE_AGGREGATION (default off). */
  aggregation?: "auto" | "off" | "always";
  /** Extra env (e.g. STRIPE_MAX_RPS). */
  env?: Record<string, string>;
  /** Where the clock starts (ms). */
  startMs: number;
}

export interface HarnessCustomer {
  /** The Sparks customer id (what traces carry as `customer_id`). */
  id: string;
  auth0UserId: string;
  stripeId: string;
  subscriptionId: string;
}

/** A trace the test wrote to Langfuse, kept for the independent calculation. */
export interface WrittenTrace {
  id: string;
  customerId: string;
  at: Date;
  tokens: number;
  visibleAt: Date | null;
}

export interface ExpectedMonth {
  /** Whole Sparks per billing month, floor of the exact sum (ai_tokens only in these traces). */
  sparks: bigint;
  subtotalCents: bigint;
  discountCents: bigint;
  totalCents: bigint;
}

export interface InvoiceHarness {
  clock: { ms: number };
  app: FastifyInstance;
  auth0: TestAuth0;
  db: TestDatabase;
  config: AppConfig;
  langfuse: LangfuseEmulator;
  emu: StripeEmulator;
  stripe: StripeClient;
  workerDeps: WorkerDeps;
  traces: WrittenTrace[];
  /** Signs a customer up through `POST /auth0/signup` (free), then moves it to `tier` via the API. */
  signup(ref: string, tier?: TierName): Promise<HarnessCustomer>;
  /** A Flowise-like trace with one GENERATION of `tokens` tokens (100 tokens = 10 Sparks). */
  trace(customer: HarnessCustomer | string, at: Date, tokens: number, visibleAt?: Date): WrittenTrace;
  /** Moves the clock, lets Stripe act on it and delivers what Stripe announced. */
  advanceTo(ms: number): Promise<void>;
  /** A sync of everything new up to now − lag (as the scheduler does), pushes drained. */
  sync(): Promise<void>;
  /** Delivers every Stripe event not delivered yet to the API's webhook route and waits for the worker. */
  deliverStripeEvents(): Promise<void>;
  /** The hourly month-close check, run as the scheduler runs it; waits for the close jobs. */
  hourlyCheck(): Promise<void>;
  /** Runs one month's close in-process (the use case the month-close job runs). */
  closeMonth(month: string): Promise<CloseMonthResult>;
  /**
   * A whole month end: the clock crosses the 1st (Stripe cuts the drafts, Sparks holds them), then
   * passes the Langfuse lag and the hourly check closes the month and releases the invoices.
   */
  monthEnd(month: string): Promise<void>;
  /** The customer's subscription invoice whose period ends at `month`'s end (any status). */
  invoiceFor(customer: HarnessCustomer, month: string): Promise<StripeInvoice | null>;
  /** `GET /usage/report` as an admin. */
  report(
    customer: HarnessCustomer,
    month: string,
  ): Promise<Record<string, unknown> & { usd: Record<string, unknown> }>;
  /**
   * The independent calculation from the written traces: which month each trace is billed in
   * (its own, or — if it became visible after `lateAfter[month]` — the next), whole Sparks,
   * the rounded line, the 5% discount over 10,000 Sparks, for a standard-tier customer.
   */
  expectedFromTraces(
    customer: HarnessCustomer,
    month: string,
    lateAfter?: Record<string, Date>,
  ): ExpectedMonth;
  /** Rows of a table, for assertions on the ledger. */
  rows(query: string): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function monthOfDate(d: Date): string {
  return d.toISOString().slice(0, 7);
}

function nextMonthKey(month: string): string {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 7);
}

export async function createInvoiceHarness(options: InvoiceHarnessOptions): Promise<InvoiceHarness> {
  const clock = { ms: options.startMs };
  const now = () => new Date(clock.ms);
  const auth0 = await createTestAuth0();
  const db = await createTestDatabase({ maxConnections: 12 });
  const testRedis = await createTestRedis();
  const langfuse = await createLangfuseEmulator({ now });
  const emu = await createStripeEmulator({ now: () => clock.ms, rateLimitPerSecond: 0 });
  const config = loadConfig({
    ...auth0.env,
    DATABASE_URL: db.url,
    REDIS_URL: testRedis.url,
    ...TEST_LIMITS_ENV,
    AUTH0_ACTION_SECRET: ACTION_SECRET,
    STRIPE_SECRET_KEY: emu.secretKey,
    STRIPE_API_BASE: emu.url,
    STRIPE_WEBHOOK_SECRET: emu.webhookSecret,
    STRIPE_MAX_RPS: "1000",
    STRIPE_AGGREGATION: options.aggregation ?? "off",
    LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
    LANGFUSE_SECRET_KEY: langfuse.secretKey,
    LANGFUSE_BASEURL: langfuse.url,
    LANGFUSE_API: "v2",
    LANGFUSE_LAG: "900",
    ...options.env,
  });
  const stripe = createStripeClient({
    secretKey: emu.secretKey,
    apiBase: { host: emu.host, port: emu.port, protocol: "http" },
  });
  await setupStripeCatalog(stripe, { prefix: "sparks", sparkRateUsd: "0.001", tiers: TIER_NAMES });

  const producer: Redis = createRedisConnection(testRedis.url, "producer");
  const queues = new QueueService({ connection: producer, prefix: testRedis.prefix });
  const app = await buildApp({ config, database: db.database, redis: producer, queues, logger: false, now });
  await app.ready();

  const logger = pino({ level: process.env.INVOICE_HARNESS_LOG ?? "silent" });
  const workerDeps: WorkerDeps = createWorkerDeps({
    config,
    database: db.database,
    connection: testRedis.connection,
    prefix: testRedis.prefix,
    logger,
    now,
    pipeline: { retryBaseMs: 20, lockWaitMs: 5_000 },
  });
  const workerQueues = workerDeps.queues;
  // No schedulers: the test is the clock, and runs each scheduled step itself.
  const runtime: WorkerRuntime = createWorkers(workerDeps, {
    only: ["syncUsage", "pushMeterEvents", "stripeWebhooks", "monthClose", "alerts"],
  });
  // Long-lived: the virtual clock may run ahead of the wall clock the token was minted on.
  const adminToken = `Bearer ${await auth0.mintToken({ sub: "auth0|invoice-admin", permissions: ["billing:admin"], expiresIn: 400 * 86_400 })}`;
  let delivered = 0;
  let traceCounter = 0;
  let syncCounter = 0;
  const traces: WrittenTrace[] = [];

  const queueIdle = async (name: "pushMeterEvents" | "stripeWebhooks" | "monthClose" | "syncUsage") => {
    const counts = await workerQueues
      .queue(name)
      .getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children");
    return Object.values(counts).every((n) => n === 0);
  };
  const unsent = async () => {
    const rows = await executeRows<{ n: unknown }>(
      db.database.db,
      `select count(*) as n from usage_items u join customers c on c.id = u.customer_id
       where u.status in ('pending', 'sending') and c.stripe_customer_id is not null`,
    );
    return Number(rows[0]?.n ?? 0);
  };
  const drained = async () => (await unsent()) === 0 && (await queueIdle("pushMeterEvents"));

  /**
   * Stripe acts on its own clock: the emulator runs everything due (drafts cut at period ends,
   * drafts with auto_advance finalized after their grace) before it answers a request.
   */
  const letStripeAct = async () => {
    await stripe.customers.list({ limit: 1 });
  };

  const h: InvoiceHarness = {
    clock,
    app,
    auth0,
    db,
    config,
    langfuse,
    emu,
    stripe,
    workerDeps,
    traces,
    async signup(ref, tier = "standard") {
      const auth0UserId = `auth0|${ref}`;
      const res = await app.inject({
        method: "POST",
        url: "/auth0/signup",
        headers: { authorization: `Bearer ${ACTION_SECRET}` },
        payload: { user_id: auth0UserId, email: `${ref}@example.com` },
      });
      if (res.statusCode !== 200) throw new Error(`signup ${ref}: ${res.statusCode} ${res.body}`);
      const body = res.json() as { customer_id: string; stripe_customer_id: string; subscription_id: string };
      if (tier !== "free") {
        const up = await app.inject({
          method: "POST",
          url: "/subscriptions/update",
          headers: { authorization: adminToken },
          payload: { customer_id: body.customer_id, subscription_tier: tier },
        });
        if (up.statusCode !== 200) throw new Error(`tier ${ref}: ${up.statusCode} ${up.body}`);
      }
      await h.deliverStripeEvents();
      return {
        id: body.customer_id,
        auth0UserId,
        stripeId: body.stripe_customer_id,
        subscriptionId: body.subscription_id,
      };
    },
    trace(customer, at, tokens, visibleAt) {
      traceCounter += 1;
      const customerId = typeof customer === "string" ? customer : customer.id;
      const id = `inv-${traceCounter}-${customerId}`;
      const visible = visibleAt ? { visibleAt } : {};
      langfuse.store.addTrace(
        { id, timestamp: at, userId: customerId, metadata: { customer_id: customerId }, ...visible },
        [
          {
            id: `${id}-gen`,
            traceId: id,
            type: "GENERATION",
            startTime: at,
            endTime: at,
            usageDetails: {
              input: tokens - Math.floor(tokens / 4),
              output: Math.floor(tokens / 4),
              total: tokens,
            },
            metadata: { customer_id: customerId },
            ...visible,
          },
        ],
      );
      const written = { id, customerId, at, tokens, visibleAt: visibleAt ?? null };
      traces.push(written);
      return written;
    },
    async advanceTo(ms) {
      if (ms < clock.ms) throw new Error("the clock only moves forward");
      clock.ms = ms;
      await letStripeAct();
      await h.deliverStripeEvents();
    },
    async sync() {
      syncCounter += 1;
      const syncId = `sync_inv_${syncCounter}_${Math.random().toString(36).slice(2, 8)}`;
      await workerQueues.add("syncUsage", { syncId, trigger: "manual" }, { jobId: syncId });
      await waitFor(`sync ${syncId}`, async () => {
        const rows = await executeRows<{ status: unknown }>(
          db.database.db,
          `select status from sync_runs where id = '${syncId}'`,
        );
        return rows[0]?.status === "completed";
      });
      await waitFor("pushes drained", drained);
      await h.deliverStripeEvents();
    },
    async deliverStripeEvents() {
      const events = emu.store.events;
      while (delivered < events.length) {
        const event = events[delivered];
        delivered += 1;
        if (!event) continue;
        const payload = JSON.stringify(event);
        const signature = stripe.webhooks.generateTestHeaderString({
          payload,
          secret: emu.webhookSecret,
          timestamp: Math.floor(clock.ms / 1000),
        });
        const res = await app.inject({
          method: "POST",
          url: "/stripe/webhook",
          headers: { "content-type": "application/json", "stripe-signature": signature },
          payload,
        });
        if (res.statusCode >= 300) throw new Error(`webhook ${event.type}: ${res.statusCode} ${res.body}`);
      }
      await waitFor("Stripe events handled", () => queueIdle("stripeWebhooks"));
    },
    async hourlyCheck() {
      await enqueueDueMonthCloses(workerDeps);
      await waitFor("month closes", () => queueIdle("monthClose"), 120_000);
      await h.deliverStripeEvents();
    },
    async closeMonth(month) {
      const result = await closeMonth(workerDeps, month, { flushWaitMs: 10_000, pollMs: 100 });
      await h.deliverStripeEvents();
      return result;
    },
    async monthEnd(month) {
      const { end } = monthRange(month);
      await h.advanceTo(end.getTime() + 1_000);
      await h.advanceTo(end.getTime() + 16 * MIN);
      await h.hourlyCheck();
    },
    async invoiceFor(customer, month) {
      const end = Math.floor(monthRange(month).end.getTime() / 1000);
      for await (const invoice of stripe.invoices.list({ customer: customer.stripeId, limit: 100 })) {
        if (invoice.period_end === end && invoice.parent?.subscription_details) return invoice;
      }
      return null;
    },
    async report(customer, month) {
      const res = await app.inject({
        method: "GET",
        url: `/usage/report?month=${month}&customer_id=${customer.id}`,
        headers: { authorization: adminToken },
      });
      if (res.statusCode !== 200) throw new Error(`report: ${res.statusCode} ${res.body}`);
      return res.json();
    },
    expectedFromTraces(customer, month, lateAfter = {}) {
      // 100 tokens = 10 Sparks: tokens / 10 exactly, kept in tenths of a Spark.
      let tenths = 0n;
      for (const t of traces) {
        if (t.customerId !== customer.id) continue;
        const own = monthOfDate(t.at);
        const cutoff = lateAfter[own];
        const billed =
          cutoff && t.visibleAt && t.visibleAt.getTime() > cutoff.getTime() ? nextMonthKey(own) : own;
        if (billed === month) tenths += BigInt(t.tokens);
      }
      const sparks = tenths / 10n;
      // $0.001 per Spark = 0.1 cent: cents = sparks / 10, rounded half-up.
      const subtotal = (sparks + 5n) / 10n;
      const discount = sparks > 10_000n ? (subtotal * 5n + 50n) / 100n : 0n;
      return { sparks, subtotalCents: subtotal, discountCents: discount, totalCents: subtotal - discount };
    },
    async rows(query) {
      return executeRows<Record<string, unknown>>(db.database.db, query);
    },
    async close() {
      await runtime.close();
      await app.close();
      await closeAdvisoryLocks(db.database);
      await workerQueues.close();
      await queues.close();
      producer.disconnect();
      await testRedis.cleanup();
      await db.drop();
      await langfuse.close();
      await emu.close();
      await auth0.close();
    },
  };
  return h;
}

/** Cents from a report's decimal USD string ("9.51" → 951n). */
export function centsOf(usd: unknown): bigint {
  const text = String(usd);
  const [whole, frac = ""] = text.split(".");
  return BigInt(whole ?? "0") * 100n + BigInt(`${frac}00`.slice(0, 2));
}
