import { loadConfig } from "@sparks/config";
import { monthOf, TIER_NAMES } from "@sparks/core";
import { CustomerRepository } from "@sparks/db";
import {
  createLangfuseEmulator,
  createStripeEmulator,
  generateFlowiseTraffic,
  type LangfuseEmulator,
  type StripeEmulator,
} from "@sparks/emulators";
import { createRedisConnection } from "@sparks/queues";
import { createStripeClient, setupStripeCatalog } from "@sparks/stripe";
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, exited, runSparks, spawnSparks } from "./cli-harness";

const HOUR = 3_600_000;
const now = Date.now();
const window = { from: new Date(now - 3 * HOUR), to: new Date(now - 2 * HOUR) };
const TRACES = 60;
const ORPHAN = "trace-cli-orphan";
// The CLI uses BullMQ's fixed `sparks` prefix, so these tests own a Redis database of their own.
const REDIS_URL = `${TEST_REDIS_URL.replace(/\/\d+$/, "")}/11`;

let db: TestDatabase;
let langfuse: LangfuseEmulator;
let stripeEmulator: StripeEmulator;
let env: NodeJS.ProcessEnv;

async function flushSparksKeys(): Promise<void> {
  const redis = createRedisConnection(REDIS_URL, "worker");
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", "sparks:*", "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

beforeAll(async () => {
  await flushSparksKeys();
  db = await createTestDatabase();
  langfuse = await createLangfuseEmulator();
  stripeEmulator = await createStripeEmulator({ rateLimitPerSecond: 0 });
  langfuse.store.addMany(
    generateFlowiseTraffic({ traces: TRACES, customers: ["cust_a", "cust_b"], ...window, seed: 3 }),
  );
  const t = new Date(window.from.getTime() + 5 * 60_000);
  langfuse.store.addTrace({ id: ORPHAN, timestamp: t, metadata: { customer_id: "cust_later" } }, [
    {
      id: "obs-cli-orphan",
      type: "GENERATION",
      startTime: t,
      usageDetails: { input: 3_000, output: 500 },
      metadata: { customer_id: "cust_later" },
    },
  ]);
  env = cleanEnv({
    DATABASE_URL: db.url,
    REDIS_URL,
    STRIPE_SECRET_KEY: stripeEmulator.secretKey,
    STRIPE_API_BASE: stripeEmulator.url,
    STRIPE_MAX_RPS: "1000",
    LANGFUSE_PUBLIC_KEY: langfuse.publicKey,
    LANGFUSE_SECRET_KEY: langfuse.secretKey,
    LANGFUSE_BASEURL: langfuse.url,
    LANGFUSE_API: "v2",
    LANGFUSE_LAG: "900",
  });
  const config = loadConfig(env);
  const stripe = createStripeClient({
    secretKey: stripeEmulator.secretKey,
    apiBase: { host: stripeEmulator.host, port: stripeEmulator.port, protocol: "http" },
  });
  await setupStripeCatalog(stripe, {
    prefix: config.stripe.meterPrefix,
    sparkRateUsd: "0.001",
    tiers: TIER_NAMES,
  });
  const customers = new CustomerRepository(db.database.db);
  for (const ref of ["cust_a", "cust_b"]) {
    const sc = await stripe.customers.create({ email: `${ref}@example.com` });
    await customers.insert({ id: ref, stripeCustomerId: sc.id, tier: "standard" });
  }
}, 60_000);

afterAll(async () => {
  await db?.drop();
  await langfuse?.close();
  await stripeEmulator?.close();
  await flushSparksKeys();
});

describe("ledger commands (as processes, against the emulators)", () => {
  it("refuses bad options in one line", async () => {
    const bad = await runSparks(["sync", "--from", "last tuesday"], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^sparks: --from: not an ISO 8601 date-time/);
    const reversed = await runSparks(
      ["backfill", "--from", window.to.toISOString(), "--to", window.from.toISOString()],
      env,
    );
    expect(reversed.stderr.trim()).toBe("sparks: --from: must be before --to");
    const unknown = await runSparks(["sync", "--customer", "nobody"], env);
    expect(unknown.stderr.trim()).toBe("sparks: --customer: no customer nobody");
    expect(unknown.code).toBe(1);
  });

  it("backfill runs in-process, prints progress on stderr and ends with totals", async () => {
    const r = await runSparks(
      ["backfill", "--from", window.from.toISOString(), "--to", window.to.toISOString(), "--json"],
      env,
      90_000,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/backfill \[.*\] \d+% \| \d+ items \| \d+ traces \| [\d.]+ items\/s \| ETA/);
    const out = JSON.parse(r.stdout) as {
      status: string;
      counts: Record<string, number>;
      processed_trace_total: number;
      ledger: Record<string, number>;
    };
    expect(out.status).toBe("completed");
    expect(out.processed_trace_total).toBe(TRACES + 1);
    expect(out.counts).toMatchObject({ traces: TRACES + 1, quarantined: 1 });
    expect(out.ledger.quarantined).toBe(1);
    expect(out.ledger.pending ?? 0).toBe(0);
    // Everything good was sent: one meter event per sent item reached the Stripe emulator.
    expect(out.ledger.sent).toBeGreaterThan(TRACES / 2);
    expect(stripeEmulator.recording.meterTotals().reduce((s, t) => s + t.value, 0)).toBeGreaterThan(0);
  }, 100_000);

  it("sync --wait follows a running worker to the end", async () => {
    const noWorker = await runSparks(
      [
        "sync",
        "--from",
        window.from.toISOString(),
        "--to",
        window.to.toISOString(),
        "--wait",
        "--timeout",
        "1",
      ],
      env,
    );
    expect(noWorker.code).toBe(1);
    expect(noWorker.stderr).toMatch(/still queued after 1 s \(is a worker running\?/);
    const worker = spawnSparks(["worker"], env);
    try {
      const r = await runSparks(
        ["sync", "--from", window.from.toISOString(), "--to", window.to.toISOString(), "--wait", "--json"],
        env,
        90_000,
      );
      expect(r.code, r.stderr + worker.output()).toBe(0);
      const out = JSON.parse(r.stdout) as { status: string; processed_trace_total: number };
      expect(out).toMatchObject({ status: "completed", processed_trace_total: TRACES + 1 });
    } finally {
      worker.child.kill("SIGTERM");
      expect(await exited(worker.child)).toBe(0);
    }
  }, 120_000);

  it("report --json has a stable shape, per customer and for all", async () => {
    const month = monthOf(window.from);
    const one = await runSparks(["report", "--month", month, "--customer", "cust_a", "--json"], env);
    expect(one.code, one.stderr).toBe(0);
    const report = JSON.parse(one.stdout) as Record<string, unknown>;
    expect(Object.keys(report).sort()).toEqual(
      [
        "billed_late",
        "categories",
        "closed",
        "corrections",
        "cost_centers",
        "customer_id",
        "customer_month_closed",
        "daily",
        "discount",
        "invoice",
        "late_usage",
        "month",
        "month_status",
        "not_billed",
        "pause_reason",
        "period",
        "quota",
        "status",
        "tier",
        "tier_segments",
        "total_sent_sparks",
        "total_sparks",
        "usd",
      ].sort(),
    );
    expect(report).toMatchObject({ customer_id: "cust_a", month, tier: "standard" });
    expect(Number(report.total_sparks)).toBeGreaterThan(0);
    const all = await runSparks(["report", "--month", month, "--json"], env);
    const both = JSON.parse(all.stdout) as { month: string; reports: { customer_id: string }[] };
    expect(both.reports.map((r) => r.customer_id)).toEqual(["cust_a", "cust_b"]);
    const human = await runSparks(["report", "--month", month, "--customer", "cust_b"], env);
    expect(human.stdout, human.stderr).toMatch(/^Customer cust_b {2}month /);
    expect(human.stdout).toMatch(/TOTAL/);
    const badMonth = await runSparks(["report", "--month", "2025-13"], env);
    expect(badMonth.stderr.trim()).toBe("sparks: --month: must be YYYY-MM: 2025-13");
  }, 60_000);

  it("errors lists the quarantined item and retry re-evaluates it once the customer exists", async () => {
    const list = await runSparks(["errors", "list", "--json"], env);
    expect(list.code, list.stderr).toBe(0);
    const { items } = JSON.parse(list.stdout) as {
      items: { error_id: string; trace_id: string; reason: string }[];
    };
    const orphan = items.find((i) => i.trace_id === ORPHAN);
    expect(orphan?.reason).toContain("cust_later");
    const human = await runSparks(["errors"], env);
    expect(human.stdout).toContain(orphan?.error_id ?? "?");

    await new CustomerRepository(db.database.db).insert({
      id: "cust_later",
      stripeCustomerId: "cus_later",
      tier: "standard",
    });
    const retry = await runSparks(["errors", "retry", orphan?.error_id ?? "?", "--json"], env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(JSON.parse(retry.stdout)).toEqual({
      results: [{ error_id: orphan?.error_id, status: "pending", reason: null }],
    });
    const unknown = await runSparks(["errors", "retry", "ui_99999999"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toMatch(/ui_99999999\s+unknown\s+no such item/);
    expect(unknown.stderr.trim()).toBe("sparks: 1 of 1 error id(s) named no item");
  }, 60_000);
});
