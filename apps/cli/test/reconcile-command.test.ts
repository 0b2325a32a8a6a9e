import { monthOf, TIER_NAMES } from "@sparks/core";
import { executeRows } from "@sparks/db";
import {
  createLangfuseEmulator,
  createStripeEmulator,
  type LangfuseEmulator,
  type StripeEmulator,
} from "@sparks/emulators";
import { createStripeClient, setupStripeCatalog } from "@sparks/stripe";
import { createTestDatabase, type TestDatabase } from "@sparks/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { cleanEnv, runSparks } from "./cli-harness";

const HOUR = 3_600_000;
const now = Date.now();
const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
const at = Math.max(Math.floor(now / HOUR) * HOUR - 2 * HOUR, monthStart + HOUR);
const MONTH = monthOf(new Date(at));

let db: TestDatabase;
let langfuse: LangfuseEmulator;
let stripeEmulator: StripeEmulator;
let env: NodeJS.ProcessEnv;

function trace(id: string, tokens: number) {
  langfuse.store.addTrace({ id, timestamp: new Date(at), userId: "cust_cli" }, [
    {
      id: `${id}-gen`,
      traceId: id,
      type: "GENERATION",
      startTime: new Date(at),
      endTime: new Date(at + 1_000),
      usageDetails: { input: tokens - 10, output: 10, total: tokens },
      totalCost: 0.01,
      metadata: { customer_id: "cust_cli" },
    },
  ]);
}

beforeAll(async () => {
  db = await createTestDatabase();
  langfuse = await createLangfuseEmulator();
  stripeEmulator = await createStripeEmulator({ rateLimitPerSecond: 0 });
  const stripe = createStripeClient({
    secretKey: stripeEmulator.secretKey,
    apiBase: { host: stripeEmulator.host, port: stripeEmulator.port, protocol: "http" },
  });
  await setupStripeCatalog(stripe, { prefix: "sparks", sparkRateUsd: "0.001", tiers: TIER_NAMES });
  const customer = await stripe.customers.create({ email: "cli@example.com" });
  const ts = new Date(at).toISOString();
  await executeRows(
    db.database.db,
    `insert into customers (id, stripe_customer_id, tier) values ('cust_cli', '${customer.id}', 'standard')`,
  );
  const [event] = await executeRows<{ id: unknown }>(
    db.database.db,
    `insert into meter_events (identifier, customer_id, stripe_customer_id, usage_category, event_name, month, value,
       event_timestamp, status, sent_at)
     values ('ai_tokens-cli-1', 'cust_cli', '${customer.id}', 'ai_tokens', 'sparks_ai_tokens', '${MONTH}', 100, '${ts}', 'sent', now())
     returning id`,
  );
  await executeRows(
    db.database.db,
    `insert into usage_items (trace_id, usage_category, customer_id, customer_ref, month, occurred_at, quantity, unit,
       exact_sparks, sent_sparks, status, stripe_identifier, meter_event_id, tier)
     values ('cli-1', 'ai_tokens', 'cust_cli', 'cust_cli', '${MONTH}', '${ts}', 1000, 'tokens', 100, 100, 'sent',
       'ai_tokens-cli-1', ${Number(event?.id)}, 'standard')`,
  );
  // Stripe got 90 of the ledger's 100; Langfuse also has a trace no sync has read yet (50 Sparks).
  await stripe.billing.meterEvents.create({
    event_name: "sparks_ai_tokens",
    payload: { stripe_customer_id: customer.id, value: "90" },
    identifier: "ai_tokens-cli-1",
    timestamp: Math.floor(at / 1000),
  });
  trace("cli-1", 1_000);
  trace("cli-2", 500);
  env = cleanEnv({
    DATABASE_URL: db.url,
    STRIPE_SECRET_KEY: stripeEmulator.secretKey,
    STRIPE_API_BASE: stripeEmulator.url,
    LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
    LANGFUSE_SECRET_KEY: langfuse.secretKey,
    LANGFUSE_BASEURL: langfuse.url,
    LANGFUSE_API: "v2",
  });
}, 60_000);

afterAll(async () => {
  await db?.drop();
  await langfuse?.close();
  await stripeEmulator?.close();
});

it("sparks reconcile --json prints Langfuse vs ledger vs Stripe with the drift", async () => {
  const result = await runSparks(["reconcile", "--month", MONTH, "--json"], env);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const report = JSON.parse(result.stdout) as {
    month: string;
    repair_job: string | null;
    rows: Array<Record<string, unknown>>;
    margins: Array<Record<string, unknown>>;
  };
  expect(report.month).toBe(MONTH);
  expect(report.repair_job).toBeNull();
  expect(report.rows).toEqual([
    expect.objectContaining({
      customer_id: "cust_cli",
      category: "ai_tokens",
      langfuse_sparks: "150",
      ledger_occurred_sparks: "100",
      ledger_sent_sparks: "100",
      stripe_sparks: "90",
      drift: { langfuse_vs_ledger: "50", ledger_vs_stripe: "-10" },
    }),
  ]);
  expect(report.margins).toEqual([
    expect.objectContaining({ customer_id: "cust_cli", billed_usd: "0.1", langfuse_cost_usd: "0.02" }),
  ]);
  // Read-only: nothing was re-sent.
  expect(stripeEmulator.recording.meterEvents()).toHaveLength(1);
}, 60_000);

it("prints a table without --json, and refuses a bad month in one line", async () => {
  const table = await runSparks(["reconcile", "--month", MONTH], env);
  expect(table.code).toBe(0);
  expect(table.stdout).toContain(`Reconciliation ${MONTH}`);
  expect(table.stdout).toMatch(/cust_cli\s+ai_tokens\s+150\s+100\s+100\s+100\s+90\s+50\s+-10/);
  const bad = await runSparks(["reconcile", "--month", "2026-13"], env);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  expect(bad.stderr).toContain("--month");
}, 60_000);
