import { LangfuseClient } from "@langfuse/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLangfuseEmulator, generateFlowiseTraffic, type LangfuseEmulator } from "../src/index";

const FROM = "2026-10-01T00:00:00.000Z";
const TO = "2026-10-08T00:00:00.000Z";

describe("Langfuse emulator paging with the official client", () => {
  let emulator: LangfuseEmulator;
  let client: LangfuseClient;
  let expectedObservationIds: Set<string>;
  let expectedTraceIds: Set<string>;

  beforeAll(async () => {
    emulator = await createLangfuseEmulator();
    const traffic = generateFlowiseTraffic({
      traces: 5000,
      customers: 50,
      from: FROM,
      to: TO,
      seed: 42,
      badShare: 0.05,
    });
    emulator.store.addMany(traffic);
    expectedTraceIds = new Set(traffic.map((r) => r.trace.id));
    expectedObservationIds = new Set(traffic.flatMap((r) => r.observations.map((o) => o.id)));
    client = new LangfuseClient({
      publicKey: emulator.publicKey,
      secretKey: emulator.secretKey,
      baseUrl: emulator.url,
    });
  });

  afterAll(async () => {
    await emulator.close();
  });

  it("v2: cursor pages deliver every observation exactly once, newest first", async () => {
    emulator.stats.reset();
    const seen: string[] = [];
    let previousStart = Number.POSITIVE_INFINITY;
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await client.api.observations.getMany({
        fromStartTime: FROM,
        toStartTime: "2026-10-09T00:00:00.000Z",
        limit: 1000,
        fields: "core,basic,usage,metadata,trace_context",
        ...(cursor ? { cursor } : {}),
      });
      pages++;
      for (const o of res.data) {
        const start = Date.parse(o.startTime);
        expect(start).toBeLessThanOrEqual(previousStart);
        previousStart = start;
        seen.push(o.id);
      }
      cursor = res.meta.cursor ?? undefined;
      if (cursor === undefined) expect(res.data.length).toBeGreaterThan(0);
    } while (cursor);

    expect(seen.length).toBe(expectedObservationIds.size);
    expect(new Set(seen)).toEqual(expectedObservationIds);
    expect(pages).toBe(Math.ceil(expectedObservationIds.size / 1000));
    expect(emulator.stats.count({ route: "GET /api/public/v2/observations", status: 200 })).toBe(pages);
    expect(emulator.stats.observationsServed).toBe(expectedObservationIds.size);
  });

  it("v1: traces (page/limit) and observations (page/limit) deliver each item exactly once", async () => {
    const traceIds: string[] = [];
    let totalPages = 1;
    for (let page = 1; page <= totalPages; page++) {
      const res = await client.api.trace.list({ page, limit: 100, fromTimestamp: FROM, toTimestamp: TO });
      expect(res.meta.totalItems).toBe(expectedTraceIds.size);
      totalPages = res.meta.totalPages;
      traceIds.push(...res.data.map((t) => t.id));
    }
    expect(traceIds.length).toBe(expectedTraceIds.size);
    expect(new Set(traceIds)).toEqual(expectedTraceIds);

    const observationIds: string[] = [];
    totalPages = 1;
    for (let page = 1; page <= totalPages; page++) {
      const res = await client.api.legacy.observationsV1.getMany({ page, limit: 100 });
      totalPages = res.meta.totalPages;
      observationIds.push(...res.data.map((o) => o.id));
    }
    expect(observationIds.length).toBe(expectedObservationIds.size);
    expect(new Set(observationIds)).toEqual(expectedObservationIds);
  });

  it("v1: a trace's details list exactly its observations", async () => {
    const [traceId] = [...expectedTraceIds];
    const trace = await client.api.trace.get(traceId!);
    const v2 = await client.api.observations.getMany({ traceId: traceId!, limit: 1000 });
    expect(trace.observations.map((o) => o.id).sort()).toEqual(v2.data.map((o) => o.id).sort());
    expect(trace.observations.length).toBeGreaterThan(0);
  });

  it("v2 filters: window bounds (inclusive from, exclusive to), type, userId, traceId", async () => {
    const all = emulator.store.observations.all();
    const pivot = all[Math.floor(all.length / 2)]!;
    const pivotIso = new Date(pivot.sortMs).toISOString();
    const from = await client.api.observations.getMany({ fromStartTime: pivotIso, limit: 1000 });
    expect(from.data.every((o) => Date.parse(o.startTime) >= pivot.sortMs)).toBe(true);
    const to = await client.api.observations.getMany({ toStartTime: pivotIso, limit: 1000 });
    expect(to.data.every((o) => Date.parse(o.startTime) < pivot.sortMs)).toBe(true);
    expect(to.data.some((o) => o.id === pivot.id)).toBe(false);
    // fromStartTime is inclusive: a 1 ms window starting at the pivot's start holds the pivot.
    const exact = await client.api.observations.getMany({
      fromStartTime: pivotIso,
      toStartTime: new Date(pivot.sortMs + 1).toISOString(),
      limit: 1000,
    });
    expect(exact.data.map((o) => o.id)).toContain(pivot.id);

    const generations = await client.api.observations.getMany({ type: "GENERATION", limit: 200 });
    expect(generations.data.length).toBe(200);
    expect(generations.data.every((o) => o.type === "GENERATION")).toBe(true);

    const byUser = await client.api.observations.getMany({ userId: "cust_0007", limit: 300 });
    expect(byUser.data.length).toBeGreaterThan(0);
    expect(byUser.data.every((o) => o.userId === "cust_0007")).toBe(true);

    const byTrace = await client.api.observations.getMany({ traceId: pivot.trace.id, limit: 1000 });
    expect(byTrace.data.map((o) => o.id).sort()).toEqual(
      pivot.trace.observations
        .all()
        .map((o) => o.id)
        .sort(),
    );
  });
});
