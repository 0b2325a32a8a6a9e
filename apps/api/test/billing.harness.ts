import { type Env, loadConfig } from "@sparks/config";
import { TIER_NAMES } from "@sparks/core";
import { createStripeEmulator, type StripeEmulator } from "@sparks/emulators";
import { createRedisConnection, QueueService, UsageCounters } from "@sparks/queues";
import { createStripeClient, setupStripeCatalog } from "@sparks/stripe";
import {
  createTestAuth0,
  createTestDatabase,
  createTestRedis,
  type TestAuth0,
  type TestDatabase,
} from "@sparks/testing";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { buildApp } from "../src";
import { TEST_LIMITS_ENV } from "./test-limits.env";

/** Shared by the API and the Stripe emulator, so "the 15th" is the 15th for both. */
export interface TestClock {
  ms: number;
  set(iso: string): void;
  now(): Date;
}

export function testClock(iso: string): TestClock {
  const clock: TestClock = {
    ms: Date.parse(iso),
    set(at) {
      clock.ms = Date.parse(at);
    },
    now: () => new Date(clock.ms),
  };
  return clock;
}

export interface BillingHarness {
  app: FastifyInstance;
  auth0: TestAuth0;
  db: TestDatabase;
  redis: Redis;
  counters: UsageCounters;
  /** The Redis key prefix of this harness (BullMQ and the quota keys). */
  prefix: string;
  clock: TestClock;
  /** null with `stripe: false`. */
  emulator: StripeEmulator | null;
  /** The official SDK pointed at the emulator (to post meter events, read state). */
  stripe: ReturnType<typeof createStripeClient> | null;
  actionSecret: string;
  token(sub: string, admin?: boolean): Promise<string>;
  close(): Promise<void>;
}

export interface BillingHarnessOptions {
  /** Start the Stripe emulator with the catalog set up (default true). */
  stripe?: boolean;
  /** Run `setupStripeCatalog` (default true); false leaves the emulator empty. */
  catalog?: boolean;
  clock?: TestClock;
  env?: Env;
  /** Replaces the fake JWKS tenant's env (e.g. to point AUTH0_ISSUER at a Management API fake). */
  auth0Env?: Env;
}

export const ACTION_SECRET = "action-secret-0123456789abcdef";

/** The API on real Redis + Postgres, the Stripe emulator over HTTP and a local JWKS, with a clock. */
export async function createBillingHarness(options: BillingHarnessOptions = {}): Promise<BillingHarness> {
  const clock = options.clock ?? testClock(new Date().toISOString());
  const auth0 = await createTestAuth0();
  const db = await createTestDatabase();
  const testRedis = await createTestRedis();
  const emulator = options.stripe === false ? null : await createStripeEmulator({ now: () => clock.ms });
  const stripe =
    emulator === null
      ? null
      : createStripeClient({
          secretKey: emulator.secretKey,
          apiBase: { host: emulator.host, port: emulator.port, protocol: "http" },
        });
  if (stripe !== null && options.catalog !== false) {
    await setupStripeCatalog(stripe, { prefix: "sparks", sparkRateUsd: "0.001", tiers: TIER_NAMES });
  }
  const redis = createRedisConnection(testRedis.url, "producer");
  const queues = new QueueService({ connection: redis, prefix: testRedis.prefix });
  const config = loadConfig({
    ...(options.auth0Env ?? auth0.env),
    DATABASE_URL: db.url,
    REDIS_URL: testRedis.url,
    ...TEST_LIMITS_ENV,
    AUTH0_ACTION_SECRET: ACTION_SECRET,
    ...(emulator === null ? {} : { STRIPE_SECRET_KEY: emulator.secretKey, STRIPE_API_BASE: emulator.url }),
    ...options.env,
  });
  const app = await buildApp({ config, database: db.database, redis, queues, logger: false, now: clock.now });
  await app.ready();
  return {
    app,
    auth0,
    db,
    redis,
    counters: new UsageCounters({ redis: testRedis.connection, prefix: testRedis.prefix }),
    prefix: testRedis.prefix,
    clock,
    emulator,
    stripe,
    actionSecret: ACTION_SECRET,
    token: (sub, admin = false) => auth0.mintToken(admin ? { sub, permissions: ["billing:admin"] } : { sub }),
    async close() {
      await app.close();
      await queues.close();
      redis.disconnect();
      await testRedis.cleanup();
      await db.drop();
      await auth0.close();
      await emulator?.close();
    },
  };
}

/** POST /auth0/signup with the action secret. */
export async function signup(h: BillingHarness, body: Record<string, unknown>, secret = h.actionSecret) {
  const res = await h.app.inject({
    method: "POST",
    url: "/auth0/signup",
    headers: { authorization: `Bearer ${secret}` },
    payload: body,
  });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}
