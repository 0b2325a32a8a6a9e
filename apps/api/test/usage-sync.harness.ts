import { type AppConfig, loadConfig } from "@sparks/config";
import { TIER_NAMES } from "@sparks/core";
import { CustomerRepository, closeAdvisoryLocks } from "@sparks/db";
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
import { createWorkerDeps, createWorkers, type WorkerDeps, type WorkerRuntime } from "@sparks/worker";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import pino from "pino";
import { buildApp } from "../src";
import { TEST_LIMITS_ENV } from "./test-limits.env";

/** The API plus, on demand, real workers — both on one test database, Redis prefix and the emulators. */
export interface SyncHarness {
  app: FastifyInstance;
  auth0: TestAuth0;
  db: TestDatabase;
  config: AppConfig;
  langfuse: LangfuseEmulator;
  stripeEmulator: StripeEmulator;
  stripe: ReturnType<typeof createStripeClient>;
  /** Queues on the API's prefix, to look at what the routes enqueued. */
  queues: QueueService;
  workerDeps: WorkerDeps;
  addCustomer(ref: { id?: string; auth0UserId?: string }): Promise<{ id: string; stripeId: string }>;
  startWorkers(): WorkerRuntime;
  bearer(sub: string, admin?: boolean): Promise<string>;
  close(): Promise<void>;
}

export interface SyncHarnessOptions {
  /** How long the API waits for a worker's job result (default: the API's 55 s). */
  workerWaitMs?: number;
}

export async function createSyncHarness(options: SyncHarnessOptions = {}): Promise<SyncHarness> {
  const auth0 = await createTestAuth0();
  const db = await createTestDatabase({ maxConnections: 10 });
  const testRedis = await createTestRedis();
  const langfuse = await createLangfuseEmulator();
  const stripeEmulator = await createStripeEmulator({ rateLimitPerSecond: 0 });
  const config = loadConfig({
    ...auth0.env,
    DATABASE_URL: db.url,
    REDIS_URL: testRedis.url,
    ...TEST_LIMITS_ENV,
    STRIPE_SECRET_KEY: stripeEmulator.secretKey,
    STRIPE_API_BASE: stripeEmulator.url,
    STRIPE_MAX_RPS: "1000",
    STRIPE_AGGREGATION: "off",
    LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
    LANGFUSE_SECRET_KEY: langfuse.secretKey,
    LANGFUSE_BASEURL: langfuse.url,
    LANGFUSE_API: "v2",
    LANGFUSE_LAG: "900",
  });
  const stripe = createStripeClient({
    secretKey: stripeEmulator.secretKey,
    apiBase: { host: stripeEmulator.host, port: stripeEmulator.port, protocol: "http" },
  });
  await setupStripeCatalog(stripe, { prefix: "sparks", sparkRateUsd: "0.001", tiers: TIER_NAMES });

  const producer: Redis = createRedisConnection(testRedis.url, "producer");
  const queues = new QueueService({ connection: producer, prefix: testRedis.prefix });
  const app = await buildApp({
    config,
    database: db.database,
    redis: producer,
    queues,
    logger: false,
    ...(options.workerWaitMs === undefined ? {} : { workerWaitMs: options.workerWaitMs }),
  });
  await app.ready();

  const logger = pino({ level: "silent" });
  const workerDeps = createWorkerDeps({
    config,
    database: db.database,
    connection: testRedis.connection,
    prefix: testRedis.prefix,
    logger,
    pipeline: { retryBaseMs: 20, lockWaitMs: 5_000 },
  });
  const workerQueues = workerDeps.queues;
  const runtimes: WorkerRuntime[] = [];
  const customers = new CustomerRepository(db.database.db);
  return {
    app,
    auth0,
    db,
    config,
    langfuse,
    stripeEmulator,
    stripe,
    queues,
    workerDeps,
    async addCustomer(ref) {
      const sc = await stripe.customers.create({ email: `${ref.id ?? ref.auth0UserId}@example.com` });
      const row = await customers.insert({ ...ref, stripeCustomerId: sc.id, tier: "standard" });
      return { id: row.id, stripeId: sc.id };
    },
    startWorkers() {
      const runtime = createWorkers(workerDeps);
      runtimes.push(runtime);
      return runtime;
    },
    async bearer(sub, admin = false) {
      return `Bearer ${await auth0.mintToken({ sub, ...(admin ? { permissions: ["billing:admin"] } : {}) })}`;
    },
    async close() {
      for (const r of runtimes) await r.close();
      await app.close();
      await closeAdvisoryLocks(db.database);
      await workerQueues.close();
      await queues.close();
      producer.disconnect();
      await testRedis.cleanup();
      await db.drop();
      await langfuse.close();
      await stripeEmulator.close();
      await auth0.close();
    },
  };
}
