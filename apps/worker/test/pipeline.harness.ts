import { type AppConfig, loadConfig } from "@sparks/config";
import {
  DEFAULT_BILLING_CONFIG,
  type DerivedUsage,
  deriveUsage,
  monthOf,
  NANO_PER_SPARK,
  TIER_NAMES,
  type TraceInput,
} from "@sparks/core";
import { closeAdvisoryLocks, customers, executeRows } from "@sparks/db";
import {
  createLangfuseEmulator,
  createStripeEmulator,
  type GeneratedTraceRecord,
  type LangfuseEmulator,
  type StripeEmulator,
} from "@sparks/emulators";
import { pickBillingMetadata } from "@sparks/langfuse";
import { createStripeClient, meterEventName, setupStripeCatalog } from "@sparks/stripe";
import { createTestDatabase, createTestRedis, type TestDatabase } from "@sparks/testing";
import pino from "pino";
import type Stripe from "stripe";
import {
  createWorkerDeps,
  createWorkers,
  type PipelineOptions,
  type WorkerDeps,
  type WorkerRuntime,
} from "../src";

export type TestRedis = Awaited<ReturnType<typeof createTestRedis>>;

export interface HarnessOptions {
  aggregation?: "auto" | "off" | "always";
  /** STRIPE_METER_API (default v1). */
  meterApi?: "v1" | "v2";
  maxRps?: number;
  stripeTimeoutMs?: number;
  stripeRateLimit?: number;
  pipeline?: PipelineOptions;
  langfuseNow?: () => Date;
  /** LANGFUSE_API (default v2). */
  langfuseApi?: "v1" | "v2" | "auto";
  now?: () => Date;
  /** The Stripe emulator's clock (ms), e.g. to move past its 24 h identifier memory. */
  stripeNow?: () => number;
}

export interface CustomerFixture {
  ref: string;
  id: string;
  stripeId: string;
}

export interface Harness {
  database: TestDatabase;
  redis: TestRedis;
  langfuse: LangfuseEmulator;
  stripeEmulator: StripeEmulator;
  stripe: Stripe;
  config: AppConfig;
  deps: WorkerDeps;
  env: Record<string, string>;
  addCustomers(refs: readonly string[]): Promise<CustomerFixture[]>;
  startWorkers(): WorkerRuntime;
  close(): Promise<void>;
}

export const silentLogger = pino({ level: "silent" });

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const database = await createTestDatabase({ maxConnections: 12 });
  const redis = await createTestRedis();
  const langfuse = await createLangfuseEmulator(options.langfuseNow ? { now: options.langfuseNow } : {});
  const stripeEmulator = await createStripeEmulator({
    rateLimitPerSecond: options.stripeRateLimit ?? 25,
    ...(options.stripeNow ? { now: options.stripeNow } : {}),
  });
  const env: Record<string, string> = {
    STRIPE_SECRET_KEY: stripeEmulator.secretKey,
    STRIPE_API_BASE: stripeEmulator.url,
    STRIPE_MAX_RPS: String(options.maxRps ?? 20),
    STRIPE_AGGREGATION: options.aggregation ?? "off",
    STRIPE_METER_API: options.meterApi ?? "v1",
    LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
    LANGFUSE_SECRET_KEY: langfuse.secretKey,
    LANGFUSE_BASEURL: langfuse.url,
    LANGFUSE_API: options.langfuseApi ?? "v2",
    LANGFUSE_LAG: "900",
  };
  const config = loadConfig(env);
  const stripe = createStripeClient({
    secretKey: stripeEmulator.secretKey,
    apiBase: { host: stripeEmulator.host, port: stripeEmulator.port, protocol: "http" },
  });
  await setupStripeCatalog(stripe, { prefix: "sparks", sparkRateUsd: "0.001", tiers: TIER_NAMES });
  const deps: WorkerDeps = createWorkerDeps({
    config,
    database: database.database,
    connection: redis.connection,
    prefix: redis.prefix,
    logger: silentLogger,
    ...(options.now ? { now: options.now } : {}),
    pipeline: { retryBaseMs: 20, lockWaitMs: 60_000, ...options.pipeline },
    stripeTimeoutMs: options.stripeTimeoutMs ?? 5_000,
  });
  const queues = deps.queues;
  const runtimes: WorkerRuntime[] = [];
  return {
    database,
    redis,
    langfuse,
    stripeEmulator,
    stripe,
    config,
    deps,
    env,
    async addCustomers(refs) {
      const out: CustomerFixture[] = [];
      for (const [i, ref] of refs.entries()) {
        const sc = await stripe.customers.create({ email: `${ref}@example.com` });
        // Half are named by their Sparks id, half by their Auth0 user id (SPEC §5).
        const values =
          i % 2 === 0
            ? { id: ref, stripeCustomerId: sc.id, tier: "standard" as const }
            : { auth0UserId: ref, stripeCustomerId: sc.id, tier: "standard" as const };
        const [row] = await database.database.db.insert(customers).values(values).returning();
        out.push({ ref, id: row?.id ?? ref, stripeId: sc.id });
      }
      return out;
    },
    startWorkers() {
      const runtime = createWorkers(deps);
      runtimes.push(runtime);
      return runtime;
    },
    async close() {
      for (const r of runtimes) await r.close();
      await closeAdvisoryLocks(database.database);
      await queues.close();
      await redis.cleanup();
      await database.drop();
      await langfuse.close();
      await stripeEmulator.close();
    },
  };
}

/** Core's view of a generated trace, built independently of the pipeline (trace metadata). */
export function expectedUsage(record: GeneratedTraceRecord): DerivedUsage {
  const input: TraceInput = {
    traceId: record.trace.id,
    timestamp: new Date(record.trace.timestamp),
    userId: record.trace.userId ?? null,
    metadata: pickBillingMetadata(record.trace.metadata),
    observations: record.observations.map((o) => ({
      id: o.id,
      type: o.type,
      metadata: pickBillingMetadata(o.metadata),
      usageDetails: (o.usageDetails as Record<string, unknown> | undefined) ?? null,
    })),
  };
  return deriveUsage(input, DEFAULT_BILLING_CONFIG);
}

export interface ExpectedTotals {
  /** key `${stripeCustomerId}|${eventName}` → whole Sparks (Σ over months of floor(Σ exact)). */
  wholeByMeter: Map<string, number>;
  /** identifier → { stripeCustomerId, eventName } of every good item. */
  identifiers: Map<string, { stripeId: string; eventName: string }>;
  bad: GeneratedTraceRecord[];
}

/** The exact rule computed from the generated traffic alone. */
export function expectedTotals(
  records: readonly GeneratedTraceRecord[],
  fixtures: readonly CustomerFixture[],
): ExpectedTotals {
  const byRef = new Map(fixtures.map((f) => [f.ref, f]));
  const exact = new Map<string, bigint>();
  const identifiers = new Map<string, { stripeId: string; eventName: string }>();
  const bad: GeneratedTraceRecord[] = [];
  for (const record of records) {
    if (record.defect) {
      bad.push(record);
      continue;
    }
    const derived = expectedUsage(record);
    const customer = derived.customerRef ? byRef.get(derived.customerRef) : undefined;
    if (!customer) throw new Error(`generated good trace ${record.trace.id} has no fixture customer`);
    for (const item of derived.items) {
      const eventName = meterEventName("sparks", item.category);
      const month = monthOf(new Date(record.trace.timestamp));
      const key = `${customer.stripeId}|${eventName}|${month}`;
      exact.set(key, (exact.get(key) ?? 0n) + item.nanoSparks);
      identifiers.set(`${item.category}-${record.trace.id}`, { stripeId: customer.stripeId, eventName });
    }
  }
  const wholeByMeter = new Map<string, number>();
  for (const [key, nano] of exact) {
    const meterKey = key.split("|").slice(0, 2).join("|");
    wholeByMeter.set(meterKey, (wholeByMeter.get(meterKey) ?? 0) + Number(nano / NANO_PER_SPARK));
  }
  return { wholeByMeter, identifiers, bad };
}

/** What the Stripe emulator accepted, per `${stripeCustomerId}|${eventName}`. */
export function stripeTotals(emulator: StripeEmulator): Map<string, number> {
  return new Map(emulator.recording.meterTotals().map((t) => [`${t.customer}|${t.eventName}`, t.value]));
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 90_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Nothing left to push: no pending/sending items, and the push queue is empty. */
export async function drained(h: Pick<Harness, "deps">): Promise<boolean> {
  const rows = await executeRows<{ n: unknown }>(
    h.deps.database.db,
    `select count(*) as n from usage_items where status in ('pending', 'sending')`,
  );
  if (Number(rows[0]?.n ?? 0) > 0) return false;
  const counts = await h.deps.queues
    .queue("pushMeterEvents")
    .getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children");
  return Object.values(counts).every((n) => n === 0);
}

export async function syncStatus(h: Pick<Harness, "deps">, syncId: string): Promise<string | null> {
  const rows = await executeRows<{ status: unknown }>(
    h.deps.database.db,
    `select status from sync_runs where id = '${syncId}'`,
  );
  return rows[0] ? String(rows[0].status) : null;
}

/** Enqueues a sync of [from, to) and waits until it completed and every push drained. */
export async function syncAndDrain(h: Harness, window: { from: Date; to: Date }, timeoutMs = 90_000) {
  const syncId = `sync_t${Math.random().toString(36).slice(2, 10)}`;
  await h.deps.queues.add(
    "syncUsage",
    { syncId, from: window.from.toISOString(), to: window.to.toISOString(), trigger: "manual" },
    { jobId: syncId },
  );
  await waitFor(`sync ${syncId}`, async () => (await syncStatus(h, syncId)) === "completed", timeoutMs);
  await waitFor("push drained", () => drained(h), timeoutMs);
  return syncId;
}
