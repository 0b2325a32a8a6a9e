import { afterEach, describe, expect, it } from "vitest";
import { createLangfuseEmulator, type LangfuseEmulator } from "../src";

/**
 * Ingestion endpoints of the Langfuse emulator at the HTTP level: what Langfuse answers for bad
 * input, the metadata round trip, idempotent upserts and the v4 events_only mode. Real SDKs
 * writing through these endpoints are tested in apps/worker (langfuse-sdk-*.test.ts).
 */

let emulator: LangfuseEmulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

function auth(e: LangfuseEmulator): string {
  return `Basic ${Buffer.from(`${e.publicKey}:${e.secretKey}`).toString("base64")}`;
}

async function post(e: LangfuseEmulator, path: string, body: unknown, contentType = "application/json") {
  const res = await fetch(`${e.url}${path}`, {
    method: "POST",
    headers: { authorization: auth(e), "content-type": contentType },
    body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function v2(e: LangfuseEmulator, traceId: string) {
  const url = `${e.url}/api/public/v2/observations?fields=core,basic,usage,metadata&traceId=${traceId}`;
  const res = await fetch(url, { headers: { authorization: auth(e) } });
  return (await res.json()) as { data: Record<string, unknown>[] };
}

const now = new Date().toISOString();
const traceId = "7d3c1a52-3f7e-4a53-a3c1-000000000001";
const batch = [
  {
    id: "ev-1",
    type: "trace-create",
    timestamp: now,
    body: { id: traceId, timestamp: now, userId: "cust_1", metadata: { compute_ms: "1500", n: 7 } },
  },
  {
    id: "ev-2",
    type: "generation-create",
    timestamp: now,
    body: { id: "gen-1", traceId, startTime: now, model: "gpt-4o-mini", metadata: { step: "llm" } },
  },
  {
    id: "ev-3",
    type: "generation-update",
    timestamp: now,
    body: {
      id: "gen-1",
      traceId,
      endTime: now,
      usage: { promptTokens: 120, completionTokens: 30, totalTokens: 150 },
    },
  },
  { id: "ev-4", type: "trace-delete", timestamp: now, body: { id: traceId } },
];

describe("POST /api/public/ingestion (legacy batch)", () => {
  it("answers 207 per event, stores the valid ones and names the unknown event type", async () => {
    emulator = await createLangfuseEmulator();
    const res = await post(emulator, "/api/public/ingestion", { batch });
    expect(res.status).toBe(207);
    expect(res.body.successes.map((s: { id: string }) => s.id)).toEqual(["ev-1", "ev-2", "ev-3"]);
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0]).toMatchObject({ id: "ev-4", status: 400 });
    expect(JSON.stringify(res.body.errors[0].error)).toContain("trace-delete");
    const trace = emulator.store.getTrace(traceId);
    // Metadata round trip: JSON types survive ("1500" stays a string, 7 a number).
    expect(trace?.data.metadata).toEqual({ compute_ms: "1500", n: 7 });
    const rows = (await v2(emulator, traceId)).data;
    expect(rows).toHaveLength(1);
    // Agentflow V2's OpenAI-style usage is mapped to input/output/total, as Langfuse does.
    expect(rows[0]).toMatchObject({
      type: "GENERATION",
      userId: "cust_1",
      usageDetails: { input: 120, output: 30, total: 150 },
    });
  });

  it("stores a batch sent twice once (upserts by id)", async () => {
    emulator = await createLangfuseEmulator();
    await post(emulator, "/api/public/ingestion", { batch });
    await post(emulator, "/api/public/ingestion", { batch });
    expect(emulator.store.traceCount).toBe(1);
    expect(emulator.store.observationCount).toBe(1);
  });

  it("refuses a usage count given as a string, per event, as Langfuse's schema does", async () => {
    emulator = await createLangfuseEmulator();
    const res = await post(emulator, "/api/public/ingestion", {
      batch: [
        {
          id: "ev-s",
          type: "generation-create",
          timestamp: now,
          body: { id: "g-s", traceId, usage: { input: "12", output: 3 } },
        },
      ],
    });
    expect(res.status).toBe(207);
    expect(res.body.errors[0]).toMatchObject({ id: "ev-s", status: 400 });
    expect(emulator.store.observationCount).toBe(0);
  });

  it("gives an observation without a trace id a trace of its own", async () => {
    emulator = await createLangfuseEmulator();
    const res = await post(emulator, "/api/public/ingestion", {
      batch: [{ id: "ev-o", type: "span-create", timestamp: now, body: { id: "orphan", startTime: now } }],
    });
    expect(res.body.successes).toEqual([{ id: "ev-o", status: 201 }]);
    expect(emulator.store.getObservation("orphan")?.trace.id).toBeTruthy();
  });

  it("answers 400 naming the field when the body has no batch array", async () => {
    emulator = await createLangfuseEmulator();
    const res = await post(emulator, "/api/public/ingestion", { events: [] });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain("batch");
    const bad = await post(emulator, "/api/public/ingestion", "{not json");
    expect(bad.status).toBe(400);
  });

  it("in events_only mode (Langfuse v4) refuses traces and observations per event", async () => {
    emulator = await createLangfuseEmulator({ legacyIngestion: "events_only" });
    const res = await post(emulator, "/api/public/ingestion", {
      batch: [
        ...batch.slice(0, 3),
        { id: "ev-score", type: "score-create", timestamp: now, body: { traceId, name: "q", value: 1 } },
      ],
    });
    expect(res.status).toBe(207);
    expect(res.body.successes).toEqual([{ id: "ev-score", status: 201 }]);
    expect(res.body.errors.map((e: { status: number }) => e.status)).toEqual([400, 400, 400]);
    expect(res.body.errors[0].message).toContain("events_only");
    expect(emulator.store.traceCount).toBe(0);
    emulator.setLegacyIngestion("enabled");
    expect((await post(emulator, "/api/public/ingestion", { batch })).body.successes).toHaveLength(3);
  });

  it("requires Basic auth", async () => {
    emulator = await createLangfuseEmulator();
    const res = await fetch(`${emulator.url}/api/public/ingestion`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ batch: [] }),
    });
    expect(res.status).toBe(401);
  });
});

const otlpSpan = (overrides: Record<string, unknown> = {}) => ({
  traceId: "0af7651916cd43dd8448eb211c80319c",
  spanId: "b7ad6b7169203331",
  name: "llm-call",
  startTimeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
  endTimeUnixNano: String(BigInt(Date.now() + 5) * 1_000_000n),
  attributes: [
    { key: "langfuse.observation.type", value: { stringValue: "generation" } },
    { key: "user.id", value: { stringValue: "cust_9" } },
    { key: "langfuse.trace.metadata.compute_ms", value: { stringValue: "1500" } },
    { key: "langfuse.observation.usage_details", value: { stringValue: '{"input":10,"output":5}' } },
  ],
  ...overrides,
});
const otlp = (spans: unknown[]) => ({
  resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: "langfuse-sdk" }, spans }] }],
});

describe("POST /api/public/otel/v1/traces (OTLP/HTTP)", () => {
  it("maps a Langfuse SDK span: type, user, propagated metadata (a numeric string stays a string), usage", async () => {
    emulator = await createLangfuseEmulator();
    const res = await post(emulator, "/api/public/otel/v1/traces", otlp([otlpSpan()]));
    expect(res.status).toBe(200);
    const rows = (await v2(emulator, "0af7651916cd43dd8448eb211c80319c")).data;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: "b7ad6b7169203331",
      type: "GENERATION",
      userId: "cust_9",
      usageDetails: { input: 10, output: 5 },
    });
    expect(rows[0]?.metadata).toMatchObject({ compute_ms: "1500" });
  });

  it("answers 400 for a malformed body, a span without a trace id, and an unknown content type", async () => {
    emulator = await createLangfuseEmulator();
    const malformed = await post(emulator, "/api/public/otel/v1/traces", "{resourceSpans:");
    expect(malformed.status).toBe(400);
    expect(malformed.body.message).toMatch(/Invalid OTLP request|JSON/);
    const noTrace = await post(emulator, "/api/public/otel/v1/traces", otlp([otlpSpan({ traceId: "" })]));
    expect(noTrace.status).toBe(400);
    expect(noTrace.body.message).toContain("traceId is absent");
    const badProto = await post(
      emulator,
      "/api/public/otel/v1/traces",
      new Uint8Array([0xff, 0xff, 0xff]),
      "application/x-protobuf",
    );
    expect(badProto.status).toBe(400);
    const text = await post(emulator, "/api/public/otel/v1/traces", "hello", "text/plain");
    expect(text.status).toBe(400);
    expect(text.body.message).toContain("application/x-protobuf");
    expect(emulator.store.observationCount).toBe(0);
  });

  it("stores the same spans sent twice once", async () => {
    emulator = await createLangfuseEmulator();
    await post(emulator, "/api/public/otel/v1/traces", otlp([otlpSpan()]));
    await post(emulator, "/api/public/otel/v1/traces", otlp([otlpSpan()]));
    expect(emulator.store.observationCount).toBe(1);
  });
});
