import { readdirSync, readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { DEFAULT_BILLING_CONFIG, deriveUsage, monthOf, NANO_PER_SPARK } from "@sparks/core";
import { executeRows } from "@sparks/db";
import {
  type EmulatedObservation,
  type GeneratedTraceRecord,
  generateFlowiseTraffic,
} from "@sparks/emulators";
import { pickBillingMetadata } from "@sparks/langfuse";
import { createLogger, secretsFromConfig } from "@sparks/observability";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createWorkers, type WorkerRuntime } from "../src";
import {
  type CustomerFixture,
  createHarness,
  expectedTotals,
  type Harness,
  stripeTotals,
  syncAndDrain,
} from "./pipeline.harness";

/**
 * Issue 9 item 2: a corpus of malformed traces (fixtures/bad-input/*.json) served by the
 * Langfuse emulator next to good traffic on the same pages, synced through the real pipeline.
 * Every bad one ends quarantined with a reason, or billed exactly as core derives it; none
 * crashes a worker or blocks its page (the good traces around it are all billed).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const BAD_CUSTOMER = "cust_bad";
const FIXTURES = fileURLToPath(new URL("./fixtures/bad-input/", import.meta.url));

const caseSchema = z.object({
  name: z.string(),
  expect: z.enum(["quarantined", "billed", "unbillable", "not_billed", "any"]),
  reason: z.string().optional(),
  ageMinutes: z.number().optional(),
  trace: z.record(z.string(), z.unknown()),
  observations: z.array(z.record(z.string(), z.unknown())),
});
type BadCase = z.infer<typeof caseSchema> & { file: string; traceId: string };

/** Expands the compact markers of the fixtures (see fixtures/bad-input/README.md). */
function expand(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expand);
  if (typeof value !== "object" || value === null) return value;
  const obj = value as Record<string, unknown>;
  if (typeof obj.$repeat === "string" && typeof obj.times === "number") return obj.$repeat.repeat(obj.times);
  if (typeof obj.$nest === "number") {
    let nested: unknown = [];
    for (let i = 0; i < obj.$nest; i++) nested = [nested];
    return nested;
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(obj)) {
    if (key === "$keys" && typeof v === "number") {
      for (let i = 0; i < v; i++) out[`k${i}`] = i;
    } else out[key] = expand(v);
  }
  return out;
}

function loadCases(): BadCase[] {
  const cases: BadCase[] = [];
  for (const file of readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".json"))
    .sort()) {
    const doc = z
      .object({ cases: z.array(caseSchema) })
      .parse(JSON.parse(readFileSync(FIXTURES + file, "utf8")));
    doc.cases.forEach((c, i) => {
      const trace = expand(c.trace) as Record<string, unknown>;
      const traceId = typeof trace.id === "string" ? trace.id : `bad-${file.replace(".json", "")}-${i}`;
      cases.push({
        ...c,
        trace,
        observations: c.observations.map((o) => expand(o) as Record<string, unknown>),
        file,
        traceId,
      });
    });
  }
  return cases;
}

/** The cases as the emulator stores them: times filled in relative to now. */
function toRecords(cases: readonly BadCase[], now: number): GeneratedTraceRecord[] {
  return cases.map((c, i) => {
    const at = new Date(now - (c.ageMinutes ?? 90) * MINUTE + i);
    // Langfuse v4 propagates trace attributes (metadata) to observations; v2 reads those.
    const observations = c.observations.map((o, j) => ({
      id: `${c.traceId}-o${j}`,
      startTime: at,
      ...(c.trace.metadata === undefined ? {} : { metadata: c.trace.metadata }),
      ...o,
    })) as unknown as EmulatedObservation[];
    return {
      kind: "chat",
      trace: { ...c.trace, id: c.traceId, timestamp: at } as GeneratedTraceRecord["trace"],
      observations,
    };
  });
}

/** Core's answer for one record (what "safely billed" must match). */
function coreItems(record: GeneratedTraceRecord) {
  return deriveUsage(
    {
      traceId: record.trace.id,
      timestamp: new Date(record.trace.timestamp),
      userId: typeof record.trace.userId === "string" ? record.trace.userId : null,
      metadata: pickBillingMetadata(record.trace.metadata),
      // Langfuse upserts by id: two observations with one id are one (the last).
      observations: [...new Map(record.observations.map((o) => [o.id, o])).values()].map((o) => ({
        id: o.id,
        type: o.type,
        metadata: pickBillingMetadata(o.metadata),
        usageDetails: (o.usageDetails as Record<string, unknown> | undefined) ?? null,
      })),
    },
    DEFAULT_BILLING_CONFIG,
  );
}

const now = Date.now();
const cases = loadCases();
let h: Harness;
let runtime: WorkerRuntime;
let good: GeneratedTraceRecord[];
let goodFixtures: CustomerFixture[];
let badFixture: CustomerFixture;
let logs = "";
let items: Map<string, { status: string; reason: string | null }[]>;

beforeAll(async () => {
  h = await createHarness({
    aggregation: "off",
    maxRps: 1_000,
    stripeRateLimit: 0,
    pipeline: { chunkMs: 7 * DAY },
  });
  good = generateFlowiseTraffic({
    traces: 300,
    customers: 4,
    from: new Date(now - 3 * HOUR),
    to: new Date(now - HOUR),
    seed: 99,
  });
  goodFixtures = await h.addCustomers(["cust_0001", "cust_0002", "cust_0003", "cust_0004"]);
  const [bad] = await h.addCustomers([BAD_CUSTOMER]);
  if (!bad) throw new Error("no fixture");
  badFixture = bad;
  h.langfuse.store.addMany(good);
  h.langfuse.store.addMany(toRecords(cases, now));
  // The production logger (redaction + secret scrubber), captured: the secrets test reads it.
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  const logger = createLogger({ level: "debug", destination: sink }, secretsFromConfig(h.config));
  runtime = createWorkers({ ...h.deps, logger });
  // 5% of Stripe calls fail on the way, so the logs include retries and errors too.
  h.stripeEmulator.faults.randomly({ rate: 0.05, seed: 3, path: "/v1/billing/meter_events" });
  try {
    await syncAndDrain(h, { from: new Date(now - 62 * DAY), to: new Date(now - 30 * MINUTE) }, 90_000);
  } catch (error) {
    // Say why: the failed sync jobs' reasons are the finding.
    const failed = await h.deps.queues.queue("syncUsage").getFailed();
    const active = await h.deps.queues.queue("syncUsage").getJobs(["active", "delayed", "waiting"]);
    throw new Error(
      `${(error as Error).message}; failed syncs: ${failed.map((j) => j.failedReason).join(" | ")}; other syncs: ${active.map((j) => `${j.id} attempts=${j.attemptsMade} ${j.failedReason ?? ""}`).join(" | ")}; logs: ${logs.slice(-3000)}`,
    );
  }
  const rows = await executeRows<{ trace_id: string; status: string; reason: string | null }>(
    h.deps.database.db,
    "select trace_id, status, reason from usage_items",
  );
  items = new Map();
  for (const r of rows) items.set(r.trace_id, [...(items.get(r.trace_id) ?? []), r]);
}, 120_000);

afterAll(async () => {
  await runtime?.close();
  await h?.close();
});

it("has at least 50 malformed cases", () => {
  expect(cases.length).toBeGreaterThanOrEqual(50);
});

it("bills every good trace on the same pages, by the exact rule", () => {
  const totals = stripeTotals(h.stripeEmulator);
  for (const [key, value] of expectedTotals(good, goodFixtures).wholeByMeter) {
    expect(totals.get(key), key).toBe(value);
  }
});

it("no worker crashed and no sync failed", async () => {
  const failedSyncs = await h.deps.queues.queue("syncUsage").getFailed();
  expect(failedSyncs.map((j) => j.failedReason)).toEqual([]);
  const runs = await executeRows<{ status: string }>(h.deps.database.db, "select status from sync_runs");
  expect(runs.map((r) => r.status)).toEqual(["completed"]);
});

describe("each malformed case", () => {
  const records = toRecords(cases, now);
  // The same trace id may appear twice (duplicate-id cases): the last copy is what Langfuse holds.
  const lastRecord = new Map(records.map((r) => [r.trace.id, r]));
  for (const c of cases) {
    it(`${c.file}: ${c.name} → ${c.expect}`, () => {
      const rows = items.get(c.traceId) ?? [];
      const sent = rows.filter((r) => r.status === "sent");
      const record = lastRecord.get(c.traceId);
      if (!record) throw new Error("no record");
      const core = coreItems(record);
      for (const r of rows) {
        expect(["sent", "quarantined", "unbillable"], `${r.status}: ${r.reason}`).toContain(r.status);
        if (r.status !== "sent") expect(r.reason ?? "", "a reason is recorded").not.toBe("");
      }
      switch (c.expect) {
        case "quarantined":
          expect(rows.length).toBeGreaterThan(0);
          expect(sent).toEqual([]);
          if (c.reason) expect(rows.map((r) => r.reason).join(" | ")).toMatch(new RegExp(c.reason));
          break;
        case "billed":
          expect(sent.length).toBeGreaterThan(0);
          expect(sent.length).toBe(core.items.length);
          break;
        case "unbillable":
          expect(rows.length).toBeGreaterThan(0);
          expect(rows.every((r) => r.status === "unbillable")).toBe(true);
          break;
        case "not_billed":
          expect(sent).toEqual([]);
          break;
        case "any":
          // Safely billed means: exactly what core derives, nothing more.
          expect(sent.length).toBe(core.items.length);
          break;
      }
    });
  }
});

it("bills the bad customer exactly what core derives for the cases it billed", () => {
  const billed = new Set(
    [...items].filter(([, rows]) => rows.some((r) => r.status === "sent")).map(([id]) => id),
  );
  const perMonth = new Map<string, bigint>();
  const byId = new Map(toRecords(cases, now).map((r) => [r.trace.id, r]));
  for (const id of billed) {
    const record = byId.get(id);
    if (!record) continue;
    const month = monthOf(new Date(record.trace.timestamp));
    for (const item of coreItems(record).items) {
      if (item.category !== "ai_tokens") continue;
      perMonth.set(month, (perMonth.get(month) ?? 0n) + item.nanoSparks);
    }
  }
  let whole = 0;
  for (const nano of perMonth.values()) whole += Number(nano / NANO_PER_SPARK);
  expect(whole).toBeGreaterThan(0);
  expect(h.stripeEmulator.recording.meterTotal(badFixture.stripeId, "sparks_ai_tokens")).toBe(whole);
  const identifiers = h.stripeEmulator.recording.meterEvents().map((e) => e.identifier);
  expect(new Set(identifiers).size).toBe(identifiers.length);
});

it("the worker's logs over this run (errors, retries, quarantines) hold no secret", () => {
  expect(logs.length).toBeGreaterThan(0);
  for (const secret of [h.env.STRIPE_SECRET_KEY, h.env.LANGFUSE_SECRET_KEY]) {
    if (!secret) continue;
    expect(logs.includes(secret)).toBe(false);
  }
  expect(logs).not.toMatch(/sk_(test|live)_[A-Za-z0-9]{10,}/);
  expect(logs).not.toMatch(/Basic [A-Za-z0-9+/=]{16,}/);
});
