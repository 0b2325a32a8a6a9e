import { createLangfuseEmulator, generateFlowiseTraffic, type LangfuseEmulator } from "@sparks/emulators";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ObservationRecord, splitWindow } from "../src/index";
import { DAY, hours, readAll, readerFor } from "./support/reader.fixture";

const WINDOW = { from: DAY, to: hours(6) };
let emulator: LangfuseEmulator;
let expectedIds: Set<string>;
let expectedTraces: Set<string>;

beforeAll(async () => {
  emulator = await createLangfuseEmulator();
  // Traffic starts before and ends after the window, so the edges are exercised too.
  const records = generateFlowiseTraffic({
    traces: 3000,
    from: hours(-1),
    to: hours(7),
    seed: 11,
    badShare: 0.05,
  });
  emulator.store.addMany(records);
  expectedIds = new Set();
  expectedTraces = new Set();
  const inWindow = (t: string | Date) => {
    const ms = new Date(t).getTime();
    return ms >= WINDOW.from.getTime() && ms < WINDOW.to.getTime();
  };
  for (const { trace, observations } of records) {
    if (inWindow(trace.timestamp)) expectedTraces.add(trace.id);
    for (const o of observations) if (inWindow(o.startTime)) expectedIds.add(o.id);
  }
});
afterAll(async () => {
  await emulator.close();
});

function flatten(pages: ObservationRecord[][]): ObservationRecord[] {
  return pages.flat();
}

function ids(records: ObservationRecord[]): string[] {
  return records.map((r) => r.observationId);
}

/** (traceId, observation) → usage, the part both API versions must agree on. */
function usageKeyed(records: ObservationRecord[]): Map<string, unknown> {
  return new Map(
    records
      .filter((r) => r.type !== "TRACE")
      .map((r) => [
        `${r.traceId}/${r.observationId}`,
        { type: r.type, usage: r.usageDetails, cost: r.costUsd },
      ]),
  );
}

describe("v2 and v1 read the same window", () => {
  test("every observation exactly once, same usage in both modes, within the request targets", async () => {
    const v2 = readerFor(emulator, { api: "v2" });
    const v1 = readerFor(emulator, { api: "v1" });
    emulator.stats.reset();
    const v2Records = flatten(await readAll(v2, WINDOW));
    const v2Requests = emulator.stats.count();
    emulator.stats.reset();
    const v1Records = flatten(await readAll(v1, WINDOW));
    const v1Requests = emulator.stats.count();

    expect(expectedIds.size).toBeGreaterThan(5000);
    // Exactly once: no duplicates across pages, nothing missing, nothing outside the window.
    expect(ids(v2Records)).toHaveLength(new Set(ids(v2Records)).size);
    expect(new Set(ids(v2Records))).toEqual(expectedIds);
    const v1Observations = v1Records.filter((r) => r.type !== "TRACE");
    expect(ids(v1Observations)).toHaveLength(new Set(ids(v1Observations)).size);
    expect(new Set(ids(v1Observations))).toEqual(expectedIds);
    expect(usageKeyed(v1Records)).toEqual(usageKeyed(v2Records));

    // v1 adds one TRACE pseudo-row per trace of the window, with trace-level data.
    const traceRows = v1Records.filter((r) => r.type === "TRACE");
    expect(new Set(traceRows.map((r) => r.traceId))).toEqual(expectedTraces);
    expect(traceRows.every((r) => r.observationId === `trace:${r.traceId}` && r.usageDetails === null)).toBe(
      true,
    );
    expect(traceRows.filter((r) => r.userId !== null).length).toBeGreaterThan(traceRows.length * 0.9);

    // Targets: v2 one request per full page of 1,000 and no trailing empty page (so ≤ 1.1 per
    // 1,000 once a window holds ≥ 10 pages); v1 ≤ 11 per 1,000 staged records (TRACE pseudo-rows
    // are staged records too).
    expect(v2.stats()).toMatchObject({ requests: v2Requests, retries: 0, observations: v2Records.length });
    expect(v2Requests).toBe(Math.ceil(v2Records.length / 1000));
    expect(v1.stats()).toMatchObject({ requests: v1Requests, observations: v1Records.length });
    expect((v1Requests * 1000) / v1Records.length).toBeLessThanOrEqual(11);
    expect(v1Requests).toBe(Math.ceil(expectedTraces.size / 100) + Math.ceil(expectedIds.size / 100));
    expect(v2.resolvedMode()).toBe("v2");
    expect(v1.resolvedMode()).toBe("v1");
  });

  test("v2 records carry userId, root flags and billing metadata on propagated traffic", async () => {
    const records = flatten(await readAll(readerFor(emulator, { api: "v2" }), WINDOW));
    const roots = records.filter((r) => r.isRoot);
    const traceIds = new Set(records.map((r) => r.traceId));
    // Every trace whose first observation starts in the window has exactly one root.
    expect(roots.length).toBeGreaterThan(traceIds.size * 0.95);
    expect(new Set(roots.map((r) => r.traceId)).size).toBe(roots.length);
    expect(records.filter((r) => r.metadata?.customer_id !== undefined).length).toBeGreaterThan(
      records.length * 0.9,
    );
    expect(records.some((r) => r.type === "GENERATION" && r.costUsd !== null)).toBe(true);
  });

  test.each(["v2", "v1"] as const)(
    "%s: a window read in 1 h chunks yields the same union, once",
    async (api) => {
      const reader = readerFor(emulator, { api });
      const whole = ids(flatten(await readAll(reader, WINDOW)));
      const chunked: string[] = [];
      for (const chunk of splitWindow(WINDOW.from, WINDOW.to, 3_600_000)) {
        chunked.push(...ids(flatten(await readAll(reader, chunk))));
      }
      expect(chunked).toHaveLength(new Set(chunked).size);
      expect(new Set(chunked)).toEqual(new Set(whole));
    },
  );

  test.each(["v2", "v1"] as const)("%s: the userId filter reads one customer's usage only", async (api) => {
    const records = flatten(await readAll(readerFor(emulator, { api }), { ...WINDOW, userId: "cust_0003" }));
    expect(records.length).toBeGreaterThan(0);
    const all = flatten(await readAll(readerFor(emulator, { api: "v2" }), WINDOW));
    const theirs = all.filter((r) => r.userId === "cust_0003").map((r) => r.observationId);
    expect(new Set(ids(records.filter((r) => r.type !== "TRACE")))).toEqual(new Set(theirs));
  });
});
