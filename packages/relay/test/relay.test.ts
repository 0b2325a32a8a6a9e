import { createServer } from "node:net";
import { createLangfuseEmulator, type LangfuseEmulator } from "@sparks/emulators";
import { afterEach, describe, expect, it } from "vitest";
import { createRelay, otelTraceId, type Relay } from "../src";

/**
 * The relay at the HTTP level against the Langfuse emulator in v4 events_only mode: legacy batches
 * in, OTLP out, nothing lost while Langfuse is down, 503 when the buffer is full. The real
 * `langfuse-langchain` SDK through the relay, billed by Sparks, is apps/worker's
 * relay-flowise.test.ts.
 */

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function auth(e: { publicKey: string; secretKey: string }): string {
  return `Basic ${Buffer.from(`${e.publicKey}:${e.secretKey}`).toString("base64")}`;
}

const now = new Date().toISOString();
const traceId = "5b0a1c8e-0c2a-4d6b-9d3e-6c1f2a3b4c5d";
const batch = [
  {
    id: "e1",
    type: "trace-create",
    timestamp: now,
    body: { id: traceId, timestamp: now, userId: "cust_r", metadata: { compute_ms: 1500, tier: "free" } },
  },
  {
    id: "e2",
    type: "generation-create",
    timestamp: now,
    body: { id: "g1", traceId, startTime: now, model: "gpt-4o-mini" },
  },
  {
    id: "e3",
    type: "generation-update",
    timestamp: now,
    body: {
      id: "g1",
      traceId,
      endTime: now,
      usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
    },
  },
  { id: "e4", type: "score-create", timestamp: now, body: { id: "s1", traceId, name: "quality", value: 1 } },
  { id: "e5", type: "mystery-create", timestamp: now, body: { id: "x" } },
];

async function send(relay: Relay, e: LangfuseEmulator, body: unknown) {
  const res = await fetch(`${relay.url}/api/public/ingestion`, {
    method: "POST",
    headers: { authorization: auth(e), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("sparks relay", () => {
  it("turns a legacy batch into OTLP that a v4 (events_only) server stores, trace attributes on every observation", async () => {
    const emulator = await createLangfuseEmulator({ legacyIngestion: "events_only" });
    closers.push(() => emulator.close());
    const relay = await createRelay({ targetUrl: emulator.url });
    closers.push(() => relay.close());
    const res = await send(relay, emulator, { batch });
    expect(res.status).toBe(207);
    expect((res.body.successes as { id: string }[]).map((s) => s.id)).toEqual(["e1", "e2", "e3", "e4"]);
    expect(res.body.errors).toMatchObject([{ id: "e5", status: 400 }]);
    await relay.drained();
    const trace = emulator.store.getTrace(otelTraceId(traceId));
    expect(trace?.data.userId).toBe("cust_r");
    // JSON types survive the relay: Flowise's number stays a number.
    expect(trace?.data.metadata).toMatchObject({ compute_ms: 1500, tier: "free" });
    const observations = trace?.observations.pageDesc({ nowMs: Date.now() }, 10) ?? [];
    const generation = observations.find((o) => o.data.type === "GENERATION");
    expect(generation?.data.usageDetails).toEqual({ input: 10, output: 5, total: 15 });
    expect(generation?.data.metadata).toMatchObject({ compute_ms: 1500, langfuse_legacy_id: "g1" });
    expect(emulator.otlpRequests.json).toBe(1);
    // The score went to the legacy endpoint, which a v4 server still accepts for scores.
    expect(emulator.stats.count({ route: "POST /api/public/ingestion", status: 207 })).toBe(1);
    expect(relay.stats()).toMatchObject({ delivered: 2, dropped: 0 });
  });

  it("merges an update that arrives in a later batch into the full span", async () => {
    const emulator = await createLangfuseEmulator({ legacyIngestion: "events_only" });
    closers.push(() => emulator.close());
    const relay = await createRelay({ targetUrl: emulator.url });
    closers.push(() => relay.close());
    await send(relay, emulator, { batch: batch.slice(0, 2) });
    await send(relay, emulator, { batch: [batch[2]] });
    await relay.drained();
    const generation = emulator.store
      .getTrace(otelTraceId(traceId))
      ?.observations.pageDesc({ nowMs: Date.now() }, 10)
      .find((o) => o.data.type === "GENERATION");
    expect(generation?.data).toMatchObject({ model: "gpt-4o-mini", usageDetails: { total: 15 } });
  });

  it("keeps batches while Langfuse is down and delivers them when it is back; 503 when the buffer is full", async () => {
    const port = await freePort();
    const keys = { publicKey: "pk-lf-r", secretKey: "sk-lf-r" };
    const relay = await createRelay({
      targetUrl: `http://127.0.0.1:${port}`,
      maxBufferedBatches: 2,
      baseDelayMs: 20,
      maxDelayMs: 100,
    });
    closers.push(() => relay.close(100));
    const post = (body: unknown) =>
      fetch(`${relay.url}/api/public/ingestion`, {
        method: "POST",
        headers: { authorization: auth(keys), "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await post({ batch: batch.slice(0, 3) })).status).toBe(207);
    const full = await post({ batch: batch.slice(0, 3) });
    expect(full.status).toBe(503);
    expect(full.headers.get("retry-after")).toBe("5");
    await new Promise((r) => setTimeout(r, 200));
    expect(relay.stats().retries).toBeGreaterThan(0);
    const emulator = await createLangfuseEmulator({ ...keys, port, legacyIngestion: "events_only" });
    closers.push(() => emulator.close());
    await relay.drained();
    expect(emulator.store.getTrace(otelTraceId(traceId))?.data.userId).toBe("cust_r");
    expect(relay.stats()).toMatchObject({ delivered: 1, dropped: 0, rejectedFull: 1 });
  });

  it("answers 401 without Basic auth and 400 naming batch for a body without one", async () => {
    const relay = await createRelay({ targetUrl: "http://127.0.0.1:9" });
    closers.push(() => relay.close(10));
    const noAuth = await fetch(`${relay.url}/api/public/ingestion`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(noAuth.status).toBe(401);
    const bad = await fetch(`${relay.url}/api/public/ingestion`, {
      method: "POST",
      headers: {
        authorization: auth({ publicKey: "a", secretKey: "b" }),
        "content-type": "application/json",
      },
      body: JSON.stringify({ events: [] }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("batch");
  });
});
