import { loadConfig } from "@sparks/config";
import {
  type Auth0Emulator,
  createAuth0Emulator,
  createLangfuseEmulator,
  createStripeEmulator,
  type LangfuseEmulator,
  type StripeEmulator,
} from "@sparks/emulators";
import { createStripeClient, setupStripeCatalog } from "@sparks/stripe";
import { createTestDatabase, type PrivateRedis, startPrivateRedis, type TestDatabase } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runSparks } from "./cli-harness";

const PUBLIC_URL = "https://sparks.example.test";
const EVENTS = [
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.created",
  "invoice.paid",
  "invoice.payment_failed",
];
const IDS = [
  "env",
  "postgres",
  "redis",
  "stripe.key",
  "stripe.catalog",
  "stripe.webhook",
  "stripe.anchors",
  "langfuse",
  "auth0",
  "alerts",
];

let stripe: StripeEmulator;
let langfuse: LangfuseEmulator;
let auth0: Auth0Emulator;
let db: TestDatabase;
let redis: PrivateRedis;
let lruRedis: PrivateRedis;
let good: Record<string, string>;

interface Report {
  version: number;
  ok: boolean;
  checks: Array<{ id: string; status: string; summary: string; fix: string | null }>;
}

async function doctor(env: Record<string, string>, json = false) {
  const r = await runSparks(["doctor", ...(json ? ["--json"] : [])], cleanEnv(env), 60_000);
  return r;
}

/** The one line of a check in the human output. */
function line(stdout: string, id: string): string {
  return stdout.split("\n").find((l) => l.slice(2).startsWith(`${id} `)) ?? `(no line for ${id})`;
}

beforeAll(async () => {
  [stripe, langfuse, auth0, db, redis, lruRedis] = await Promise.all([
    createStripeEmulator({ secretKey: "sk_test_doctor_key", webhookSecret: "whsec_doctor" }),
    createLangfuseEmulator({ publicKey: "pk-lf-doctor", secretKey: "sk-lf-doctor" }),
    createAuth0Emulator(),
    createTestDatabase(),
    startPrivateRedis({ maxmemoryPolicy: "noeviction" }),
    startPrivateRedis({ maxmemoryPolicy: "allkeys-lru" }),
  ]);
  const client = createStripeClient({
    secretKey: stripe.secretKey,
    apiBase: loadConfig({ STRIPE_API_BASE: stripe.url }).stripe.apiBase,
  });
  await setupStripeCatalog(client, {
    prefix: "sparks",
    sparkRateUsd: "0.001",
    tiers: ["free", "standard", "enterprise"],
    tierPriced: { free: false, standard: true, enterprise: true },
  });
  await client.webhookEndpoints.create({
    url: `${PUBLIC_URL}/stripe/webhook`,
    enabled_events: EVENTS as never,
  });
  good = {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    STRIPE_SECRET_KEY: stripe.secretKey,
    STRIPE_API_BASE: stripe.url,
    STRIPE_WEBHOOK_SECRET: "whsec_doctor",
    SPARKS_PUBLIC_URL: PUBLIC_URL,
    LANGFUSE_BASEURL: langfuse.url,
    LANGFUSE_PUBLIC_KEY: "pk-lf-doctor",
    LANGFUSE_SECRET_KEY: "sk-lf-doctor",
    ...auth0.env,
    SLACK_WEBHOOK_URL: "http://127.0.0.1:9/slack-not-called",
  };
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([
    stripe?.close(),
    langfuse?.close(),
    auth0?.close(),
    redis?.close(),
    lruRedis?.close(),
  ]);
  await db?.drop();
});

describe("sparks doctor (as a process, against the emulators)", () => {
  it("a good setup: one ✓ line per check, exit 0", async () => {
    const r = await doctor(good);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines.slice(0, -1).map((l) => l.split(/\s+/)[1])).toEqual(IDS);
    for (const id of IDS) expect(line(r.stdout, id)).toMatch(/^✓ /);
    expect(line(r.stdout, "stripe.key")).toContain("test mode key accepted");
    expect(line(r.stdout, "stripe.catalog")).toContain("3 meters");
    expect(line(r.stdout, "langfuse")).toContain("API v2");
    expect(lines.at(-1)).toBe(`All ${IDS.length} checks passed.`);
  });

  it("--json is stable: {version: 1, ok, checks: [{id, status, summary, fix}]}", async () => {
    const r = await doctor(good, true);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.version).toBe(1);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.id)).toEqual(IDS);
    for (const c of report.checks) {
      expect(Object.keys(c)).toEqual(["id", "status", "summary", "fix"]);
      expect(c).toMatchObject({ status: "ok", fix: null });
    }
  });

  const broken: Array<[string, Record<string, string>, string, RegExp]> = [
    [
      "a wrong Stripe key",
      { STRIPE_SECRET_KEY: "sk_test_wrong_key" },
      "stripe.key",
      /rejected the test mode key/,
    ],
    [
      "a missing meter (another prefix)",
      { STRIPE_METER_PREFIX: "other" },
      "stripe.catalog",
      /meter other_ai_tokens missing/,
    ],
    ["prices at another rate", { SPARK_RATE: "0.002" }, "stripe.catalog", /config says 0\.2/],
    [
      "no webhook endpoint for this deployment",
      { SPARKS_PUBLIC_URL: "https://elsewhere.test" },
      "stripe.webhook",
      /no webhook endpoint for https:\/\/elsewhere\.test\/stripe\/webhook/,
    ],
    [
      "Redis with allkeys-lru",
      {},
      "redis",
      /maxmemory-policy is allkeys-lru.*fix: set maxmemory-policy noeviction/,
    ],
    [
      "a wrong Langfuse key",
      { LANGFUSE_SECRET_KEY: "sk-lf-wrong" },
      "langfuse",
      /rejected the keys \(HTTP 401\)/,
    ],
    [
      "an unreachable JWKS",
      { AUTH0_JWKS_URI: "http://127.0.0.1:9/.well-known/jwks.json" },
      "auth0",
      /not reachable/,
    ],
    ["no alert channel", { SLACK_WEBHOOK_URL: "" }, "alerts", /no alert channel configured/],
    [
      "no DATABASE_URL (PGlite is for `sparks start` only)",
      { DATABASE_URL: "" },
      "postgres",
      /DATABASE_URL is not set/,
    ],
  ];
  for (const [what, change, id, expected] of broken) {
    it(`${what}: its own ✗ line with the fix, exit 1`, async () => {
      const env = { ...good, ...change, ...(id === "redis" ? { REDIS_URL: lruRedis.url } : {}) };
      const r = await doctor(env);
      expect(r.code, r.stdout).toBe(1);
      expect(line(r.stdout, id)).toMatch(/^✗ /);
      expect(line(r.stdout, id)).toMatch(expected);
      expect(line(r.stdout, id)).toContain("— fix: ");
      const failed = r.stdout.split("\n").filter((l) => l.startsWith("✗"));
      expect(failed, r.stdout).toHaveLength(1);
      expect(r.stderr.trim()).toBe(`sparks: doctor: 1 check(s) failed: ${id}`);
    });
  }

  it("a bad environment: the env line names the variable, the rest are skipped", async () => {
    const r = await doctor({ ...good, STRIPE_SECRET_KEY: "pk_test_nope" }, true);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.ok).toBe(false);
    expect(report.checks[0]).toMatchObject({ id: "env", status: "fail" });
    expect(report.checks[0]?.summary).toContain("STRIPE_SECRET_KEY");
    expect(report.checks.slice(1).every((c) => c.status === "skip")).toBe(true);
  });
});
