import { createLangfuseEmulator, type LangfuseEmulator } from "@sparks/emulators";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ObservationRecord, pickBillingMetadata, splitWindow } from "../src/index";
import { DAY, hours, readAll, readerFor } from "./support/reader.fixture";

const WINDOW = { from: DAY, to: hours(1) };
const LONG_CUSTOMER = `cust_${"x".repeat(250)}`;
const RECORD_KEYS = [
  "costUsd",
  "isRoot",
  "metadata",
  "observationId",
  "startTime",
  "traceId",
  "type",
  "usageDetails",
  "userId",
].sort();
let emulator: LangfuseEmulator;

beforeAll(async () => {
  emulator = await createLangfuseEmulator();
  const billing = {
    customer_id: LONG_CUSTOMER,
    compute_ms: "1500",
    usage_category: "compute",
    cost_center: 7,
  };
  emulator.store.addTrace(
    {
      id: "trace-a",
      timestamp: hours(0.5),
      userId: "user-a",
      metadata: { ...billing, prompt_template: "p".repeat(5000) },
      input: { question: "q".repeat(10_000) },
      output: { text: "a".repeat(10_000) },
    },
    [
      {
        id: "obs-root",
        type: "SPAN",
        startTime: hours(0.5),
        metadata: { ...billing, flowise_chatflow: "Support" },
        input: "i".repeat(10_000),
      },
      {
        id: "obs-gen",
        type: "GENERATION",
        parentObservationId: "obs-root",
        startTime: new Date(hours(0.5).getTime() + 10),
        usageDetails: { input: 10, output: 5, total: -3 },
        totalCost: 1e-7,
        metadata: { unrelated: true },
        output: "o".repeat(10_000),
      },
      {
        id: "obs-array-meta",
        type: "EVENT",
        parentObservationId: "obs-root",
        startTime: hours(0.6),
        metadata: [1, 2],
      },
    ],
  );
});
afterAll(async () => {
  await emulator.close();
});

function byId(records: ObservationRecord[]): Map<string, ObservationRecord> {
  return new Map(records.map((r) => [r.observationId, r]));
}

describe("normalized records", () => {
  test("v2: raw usage, billing-only metadata (untruncated, raw strings), exact cost, root flag", async () => {
    const records = byId((await readAll(readerFor(emulator, { api: "v2" }), WINDOW)).flat());
    expect([...records.keys()].sort()).toEqual(["obs-array-meta", "obs-gen", "obs-root"]);
    const root = records.get("obs-root");
    expect(root).toEqual({
      observationId: "obs-root",
      traceId: "trace-a",
      type: "SPAN",
      startTime: hours(0.5),
      userId: "user-a",
      isRoot: true,
      usageDetails: {},
      // expandMetadata keeps the 255-char id whole; "1500" stays a string for core to quarantine.
      metadata: { customer_id: LONG_CUSTOMER, compute_ms: "1500", usage_category: "compute", cost_center: 7 },
      costUsd: null,
    });
    expect(records.get("obs-gen")).toMatchObject({
      isRoot: false,
      usageDetails: { input: 10, output: 5, total: -3 },
      metadata: null,
      costUsd: "0.0000001",
    });
    expect(records.get("obs-array-meta")?.metadata).toBeNull();
    // Nothing but the record fields: no input/output/io is held.
    for (const record of records.values()) expect(Object.keys(record).sort()).toEqual(RECORD_KEYS);
  });

  test("v1: a TRACE pseudo-row carries the trace's userId, time and billing metadata", async () => {
    const records = byId((await readAll(readerFor(emulator, { api: "v1" }), WINDOW)).flat());
    expect(records.get("trace:trace-a")).toEqual({
      observationId: "trace:trace-a",
      traceId: "trace-a",
      type: "TRACE",
      startTime: hours(0.5),
      userId: "user-a",
      isRoot: false,
      usageDetails: null,
      metadata: { customer_id: LONG_CUSTOMER, compute_ms: "1500", usage_category: "compute", cost_center: 7 },
      costUsd: null,
    });
    expect(records.get("obs-root")).toMatchObject({ isRoot: true, userId: null });
    expect(records.get("obs-gen")).toMatchObject({
      usageDetails: { input: 10, output: 5, total: -3 },
      costUsd: "0.0000001",
    });
    for (const record of records.values()) expect(Object.keys(record).sort()).toEqual(RECORD_KEYS);
  });

  test("v1: an observation ingested mid-read (shifting the offset pages) is not yielded twice", async () => {
    const emu = await createLangfuseEmulator();
    try {
      const obs = Array.from({ length: 25 }, (_, i) => ({
        id: `o-${String(i).padStart(2, "0")}`,
        type: "SPAN" as const,
        startTime: new Date(hours(0.1).getTime() + i * 60_000),
      }));
      emu.store.addTrace({ id: "t-shift", timestamp: hours(0.1) }, obs);
      const reader = readerFor(emu, { api: "v1", pageSize: 10 });
      const seen: string[] = [];
      for await (const page of reader.readWindow(WINDOW)) {
        seen.push(...page.map((r) => r.observationId));
        if (seen.length === 11) {
          // Late arrival, newest in the window: every later offset page shifts down by one.
          emu.store.addObservations("t-shift", [{ id: "o-late", type: "SPAN", startTime: hours(0.9) }]);
        }
      }
      expect(seen).toHaveLength(new Set(seen).size);
      expect(seen.filter((id) => id.startsWith("o-") && id !== "o-late")).toHaveLength(25);
    } finally {
      await emu.close();
    }
  });
});

describe("helpers", () => {
  test("pickBillingMetadata keeps only billing keys with raw values", () => {
    expect(
      pickBillingMetadata({ customer_id: "c", storage_gb_hours: "NaN", input: "x", subscription_tier: null }),
    ).toEqual({
      customer_id: "c",
      storage_gb_hours: "NaN",
      subscription_tier: null,
    });
    expect(pickBillingMetadata({ input: "x" })).toBeNull();
    expect(pickBillingMetadata("customer_id=c")).toBeNull();
    expect(pickBillingMetadata(null)).toBeNull();
  });

  test("splitWindow covers [from, to) with contiguous chunks", () => {
    const chunks = splitWindow(DAY, hours(2.5), 3_600_000);
    expect(chunks.map((c) => [c.from.toISOString(), c.to.toISOString()])).toEqual([
      ["2026-01-01T00:00:00.000Z", "2026-01-01T01:00:00.000Z"],
      ["2026-01-01T01:00:00.000Z", "2026-01-01T02:00:00.000Z"],
      ["2026-01-01T02:00:00.000Z", "2026-01-01T02:30:00.000Z"],
    ]);
    expect(splitWindow(DAY, DAY, 1000)).toEqual([]);
    expect(() => splitWindow(DAY, hours(1), 0)).toThrow(RangeError);
  });
});
