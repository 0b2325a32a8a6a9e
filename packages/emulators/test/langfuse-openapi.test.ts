import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createLangfuseEmulator,
  createLangfuseSchemaValidator,
  FIELD_GROUPS,
  generateFlowiseTraffic,
  type LangfuseEmulator,
  type LangfuseSchemaValidator,
} from "../src/index";

describe("Langfuse emulator responses match Langfuse's OpenAPI document", () => {
  let emulator: LangfuseEmulator;
  let validator: LangfuseSchemaValidator;
  let auth: string;

  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(`${emulator.url}${path}`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    return res.json();
  };
  const expectValid = (schema: string, body: unknown) => {
    const check = validator.validate(schema, body);
    expect(check.errors).toEqual([]);
    expect(check.valid).toBe(true);
  };

  beforeAll(async () => {
    validator = await createLangfuseSchemaValidator();
    emulator = await createLangfuseEmulator();
    auth = `Basic ${Buffer.from(`${emulator.publicKey}:${emulator.secretKey}`).toString("base64")}`;
    emulator.store.addMany(
      generateFlowiseTraffic({
        traces: 300,
        from: "2026-10-01T00:00:00Z",
        to: "2026-10-02T00:00:00Z",
        seed: 7,
        badShare: 0.3,
      }),
    );
  });

  afterAll(async () => {
    await emulator?.close();
  });

  it("ObservationsV2Response: default groups, every group, and each group alone", async () => {
    const defaults = (await get("/api/public/v2/observations?limit=100")) as {
      data: Record<string, unknown>[];
    };
    expectValid("ObservationsV2Response", defaults);
    expect(Object.keys(defaults.data[0]!)).toContain("isRootObservation");
    expect(Object.keys(defaults.data[0]!)).not.toContain("usageDetails");

    const everything = (await get(
      `/api/public/v2/observations?limit=500&fields=${FIELD_GROUPS.join(",")}`,
    )) as {
      data: Record<string, unknown>[];
      meta: { cursor?: string };
    };
    expectValid("ObservationsV2Response", everything);
    expect(everything.data.some((o) => o.type === "GENERATION" && typeof o.totalCost === "number")).toBe(
      true,
    );
    expect(typeof everything.meta.cursor).toBe("string");

    for (const group of FIELD_GROUPS) {
      expectValid(
        "ObservationsV2Response",
        await get(`/api/public/v2/observations?limit=50&fields=${group}`),
      );
    }
  });

  it("usage group carries usageDetails, costDetails and totalCost of generations", async () => {
    const body = (await get("/api/public/v2/observations?type=GENERATION&limit=20&fields=core,usage")) as {
      data: Array<{
        usageDetails: Record<string, number>;
        costDetails: Record<string, number>;
        totalCost: number;
      }>;
    };
    const sane = body.data.filter((o) => (o.usageDetails.total ?? 0) > 0 && o.usageDetails.total! < 1e6);
    expect(sane.length).toBeGreaterThan(0);
    for (const o of sane) {
      expect(o.usageDetails.total).toBe(o.usageDetails.input! + o.usageDetails.output!);
      expect(o.totalCost).toBeCloseTo(o.costDetails.total!, 10);
    }
  });

  it("Traces, TraceWithFullDetails and legacyObservationsViews", async () => {
    const traces = (await get("/api/public/traces?limit=100&page=2")) as {
      data: Array<{ id: string; latency: number }>;
      meta: { totalItems: number; totalPages: number };
    };
    expectValid("Traces", traces);
    expect(traces.meta).toMatchObject({ totalItems: 300, totalPages: 3 });

    for (const { id } of traces.data.slice(0, 20)) {
      const trace = (await get(`/api/public/traces/${id}`)) as { observations: unknown[]; latency: number };
      expectValid("TraceWithFullDetails", trace);
      expect(trace.observations.length).toBeGreaterThan(0);
    }

    expectValid("legacyObservationsViews", await get("/api/public/observations?limit=100"));
    expectValid(
      "legacyObservationsViews",
      await get("/api/public/observations?limit=100&type=GENERATION&page=3"),
    );
  });

  it("trace latency is reported in seconds", async () => {
    const [record] = generateFlowiseTraffic({
      traces: 1,
      from: "2026-10-03T00:00:00Z",
      to: "2026-10-03T00:00:01Z",
      seed: 3,
    });
    const { trace } = record!;
    emulator.store.addTrace({ ...trace, id: "latency-trace" }, [
      {
        id: "lat-a",
        type: "SPAN",
        startTime: "2026-10-03T00:00:00.000Z",
        endTime: "2026-10-03T00:00:02.500Z",
      },
      {
        id: "lat-b",
        type: "GENERATION",
        startTime: "2026-10-03T00:00:01.000Z",
        endTime: "2026-10-03T00:00:04.250Z",
      },
    ]);
    const body = (await get("/api/public/traces/latency-trace")) as { latency: number };
    expect(body.latency).toBe(4.25);
  });

  it("the validator itself rejects a response that breaks the schema", async () => {
    const body = (await get("/api/public/v2/observations?limit=5")) as { data: Record<string, unknown>[] };
    delete body.data[0]!.modelId;
    expect(validator.validate("ObservationsV2Response", body).valid).toBe(false);
    const traces = (await get("/api/public/traces?limit=5")) as { data: Record<string, unknown>[] };
    traces.data[0]!.tags = "not-an-array";
    expect(validator.validate("Traces", traces).valid).toBe(false);
  });
});
