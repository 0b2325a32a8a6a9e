import type { DemoAccess } from "@sparks/api";
import type { AppConfig } from "@sparks/config";
import { loadConfig } from "@sparks/config";
import type { Database } from "@sparks/db";
import type { Logger } from "pino";

/** Shown in the log so a newcomer can open Bull Board (operator basic auth). */
const DEMO_ADMIN_USER = "admin";
const DEMO_ADMIN_PASSWORD = "sparks-demo-local";
/** The demo traffic spans the last two days; the first sync reads a little more. */
const DEMO_SYNC_BACK_MS = 3 * 24 * 3_600_000;

export interface DemoMode {
  config: AppConfig;
  customers: readonly string[];
  /**
   * The demo's own token signer (a local Auth0 emulator), or null when real Auth0 settings are
   * present: demo tokens are never minted for a real tenant's audience.
   */
  access: DemoAccess | null;
  close(): Promise<void>;
}

/** Any Auth0 setting means a real tenant is meant: the demo then signs nothing. */
function hasAuth0Settings(env: NodeJS.ProcessEnv): boolean {
  return ["AUTH0_DOMAIN", "AUTH0_ISSUER", "AUTH0_JWKS_URI", "AUTH0_AUDIENCE"].some(
    (name) => (env[name] ?? "").trim() !== "",
  );
}

/** `sparks start` with neither Langfuse nor Stripe keys: the "try it without accounts" mode. */
export function wantsDemo(config: AppConfig): boolean {
  return !config.langfuse.publicKey && !config.langfuse.secretKey && !config.stripe.secretKey;
}

/**
 * Starts the demo emulators in this process and returns the config pointed at them. Stripe
 * webhooks go to the API when its port is fixed (with PORT=0 the port is unknown beforehand,
 * so webhooks are skipped; usage, the report and Bull Board do not need them).
 */
export async function startDemo(
  env: NodeJS.ProcessEnv,
  config: AppConfig,
  logger: Logger,
): Promise<DemoMode> {
  const { createAuth0Emulator, startDemoEmulators } = await import("@sparks/emulators");
  const demo = await startDemoEmulators({
    ...(config.port > 0 ? { webhookUrl: `http://127.0.0.1:${config.port}/stripe/webhook` } : {}),
  });
  let auth0: Awaited<ReturnType<typeof createAuth0Emulator>> | null = null;
  try {
    auth0 = hasAuth0Settings(env) ? null : await createAuth0Emulator();
  } catch (e) {
    await demo.close();
    throw e;
  }
  const demoAdmin = env.SPARKS_ADMIN_USER === undefined && env.SPARKS_ADMIN_PASSWORD === undefined;
  const admin = demoAdmin
    ? { SPARKS_ADMIN_USER: DEMO_ADMIN_USER, SPARKS_ADMIN_PASSWORD: DEMO_ADMIN_PASSWORD }
    : {};
  const demoConfig = loadConfig({ ...env, ...demo.env, ...(auth0?.env ?? {}), ...admin });
  logger.info(
    { langfuse: demo.langfuse.url, stripe: demo.stripe.url, traces: demo.langfuse.store.traceCount },
    "demo mode: no Langfuse or Stripe keys configured, so Sparks runs against local emulators with demo Flowise-like traffic",
  );
  const signer = auth0;
  return {
    config: demoConfig,
    customers: demo.customers,
    access: signer
      ? {
          customers: demo.customers,
          signToken: (o) => signer.signToken(o),
          ...(demoAdmin ? { bullBoardLogin: { user: DEMO_ADMIN_USER, password: DEMO_ADMIN_PASSWORD } } : {}),
        }
      : null,
    close: async () => {
      await Promise.allSettled([demo.close(), signer?.close()]);
    },
  };
}

/**
 * After migrations: the Stripe catalog, then each demo customer signed up the way
 * `POST /auth0/signup` does it (a Sparks customer named by the Auth0 id, one Stripe customer
 * and a free subscription), so the demo traces resolve to customers.
 */
export async function seedDemo(demo: DemoMode, database: Database, logger: Logger): Promise<void> {
  const config = demo.config;
  const { TIER_NAMES } = await import("@sparks/core");
  const { createStripeClient, setupStripeCatalog } = await import("@sparks/stripe");
  const secretKey = config.stripe.secretKey;
  if (!secretKey) throw new Error("demo mode: the Stripe emulator key is missing");
  const stripe = createStripeClient({ secretKey, apiBase: config.stripe.apiBase });
  const tierPriced = Object.fromEntries(TIER_NAMES.map((t) => [t, config.billing.tiers[t].priced]));
  await setupStripeCatalog(stripe, {
    prefix: config.stripe.meterPrefix,
    sparkRateUsd: config.billing.sparkRateUsd,
    tiers: TIER_NAMES,
    tierPriced: tierPriced as Record<(typeof TIER_NAMES)[number], boolean>,
  });
  const { createBillingStripe, SignupUseCase } = await import("@sparks/api");
  const signup = new SignupUseCase({
    database,
    stripe: createBillingStripe(config),
    auth0: null,
    now: () => new Date(),
    logger,
  });
  for (const auth0UserId of demo.customers) {
    const linked = await signup.run({ auth0UserId, email: `${auth0UserId.replace(/\W/g, "-")}@demo.local` });
    logger.info({ customerId: linked.customerId, auth0UserId }, "demo mode: customer ready");
  }
}

/** The first sync, so usage shows up without waiting for SYNC_SCHEDULE. */
export async function firstDemoSync(
  demo: DemoMode,
  database: Database,
  redisUrl: string,
  logger: Logger,
): Promise<void> {
  const { createRedisConnection, QueueService } = await import("@sparks/queues");
  const { requestSync } = await import("@sparks/ledger");
  const redis = createRedisConnection(redisUrl, "worker");
  const queues = new QueueService({ connection: redis });
  try {
    const from = new Date(Date.now() - DEMO_SYNC_BACK_MS).toISOString();
    const sync = await requestSync({ database, queues }, { from, trigger: "manual" });
    logger.info({ syncId: sync.syncId, customers: demo.customers }, "demo mode: first sync enqueued");
  } finally {
    await queues.close();
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** Where to look: the home page first; then Bull Board (operator basic auth) and the report. */
export function logDemoAccess(demo: DemoMode, apiUrl: string | null, logger: Logger): void {
  const admin = demo.config.admin;
  // One line a person can click: the home page links every demo customer's usage page.
  if (apiUrl) logger.info(`Sparks demo is ready: open ${apiUrl}/ in a browser`);
  logger.info(
    {
      bullBoard: apiUrl ? `${apiUrl}/admin/queues` : null,
      bullBoardUser: admin?.user ?? null,
      bullBoardPassword: admin?.user === DEMO_ADMIN_USER ? DEMO_ADMIN_PASSWORD : "(SPARKS_ADMIN_PASSWORD)",
      report: `pnpm sparks report --month ${new Date().toISOString().slice(0, 7)} (with the same DATABASE_URL)`,
    },
    "demo mode: usage appears within a minute or two",
  );
}
