import {
  propagateAttributes,
  setLangfuseTracerProvider,
  startActiveObservation,
  startObservation,
} from "@langfuse/tracing";
import { OTLPTraceExporter as OTLPProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import type { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { langfuseOtelProvider } from "./langfuse-sdk.harness";
import type { CustomerFixture, Harness } from "./pipeline.harness";
import {
  billRecent,
  createSdkHarness,
  type LedgerRow,
  meterTotal,
  syncRecent,
  waitForObservations,
} from "./sdk-billing.helpers";

/**
 * Issue 15: what a current app does — `@langfuse/tracing` + `@langfuse/otel` 5.x exporting OTLP
 * to the Langfuse emulator, billing keys set once with `propagateAttributes` (string values only,
 * as the v5 SDK allows) — and Sparks bills exactly that through to the Stripe emulator. One
 * trace goes out as OTLP/JSON (the SDK's default exporter), one as OTLP/protobuf.
 */

let h: Harness;
let alice: CustomerFixture;
let bob: CustomerFixture;
let jsonProvider: NodeTracerProvider;
let protoProvider: NodeTracerProvider;
let rows: LedgerRow[];
const traceIds: string[] = [];

async function chatTrace(
  provider: NodeTracerProvider,
  attributes: { userId: string; metadata: Record<string, string> },
  usage: Record<string, number>,
): Promise<void> {
  setLangfuseTracerProvider(provider);
  await propagateAttributes(attributes, () =>
    startActiveObservation("chat-request", async (root) => {
      traceIds.push(root.traceId);
      const retrieval = startObservation("retrieve-docs", { input: { q: "pricing" } });
      retrieval.end();
      const generation = startObservation(
        "llm-call",
        { model: "gpt-4o-mini", input: [{ role: "user", content: "hi" }], usageDetails: usage },
        { asType: "generation" },
      );
      generation.update({ output: { role: "assistant", content: "hello" } });
      generation.end();
    }),
  );
  await provider.forceFlush();
}

beforeAll(async () => {
  const sdk = await createSdkHarness(["cust_v5_alice", "cust_v5_bob"]);
  h = sdk.h;
  [alice, bob] = sdk.customers as [CustomerFixture, CustomerFixture];
  jsonProvider = langfuseOtelProvider(h);
  // The AsyncLocalStorage context manager, which propagateAttributes needs.
  jsonProvider.register();
  const basic = Buffer.from(`${h.langfuse.publicKey}:${h.langfuse.secretKey}`).toString("base64");
  protoProvider = langfuseOtelProvider(
    h,
    new OTLPProtoTraceExporter({
      url: h.langfuse.otlpTracesUrl,
      headers: { Authorization: `Basic ${basic}`, "x-langfuse-ingestion-version": "4" },
    }),
  );

  // alice: named by customer_id metadata; tokens + compute_ms as a v5 string ("90000" ms = 75 Sparks).
  await chatTrace(
    jsonProvider,
    {
      userId: "end-user-17",
      metadata: {
        customer_id: alice.ref,
        subscription_tier: "standard",
        cost_center: "support",
        compute_ms: "90000",
      },
    },
    { input: 1200, output: 300 },
  );
  // bob: named only by the propagated userId; total wins over input + output; storage "73" GB-h = 50 Sparks.
  await chatTrace(
    protoProvider,
    { userId: bob.ref, metadata: { storage_gb_hours: "73", cost_center: "research" } },
    { input: 2000, output: 400, total: 2500 },
  );
  await waitForObservations(h, 6);
  rows = await billRecent(h);
}, 120_000);

afterAll(async () => {
  await jsonProvider?.shutdown();
  await protoProvider?.shutdown();
  await h?.close();
});

it("the emulator received both traces with the propagated attributes on every observation", () => {
  expect(h.langfuse.otlpRequests.json).toBeGreaterThan(0);
  expect(h.langfuse.otlpRequests.protobuf).toBeGreaterThan(0);
  expect(traceIds).toHaveLength(2);
  for (const id of traceIds) {
    const trace = h.langfuse.store.getTrace(id);
    expect(trace, id).toBeDefined();
    const observations = trace?.observations.pageDesc({ nowMs: Date.now() }, 100) ?? [];
    expect(observations.map((o) => o.data.type).sort()).toEqual(["GENERATION", "SPAN", "SPAN"]);
    for (const o of observations) expect(o.data.metadata).toHaveProperty("cost_center");
  }
});

it("bills alice's tokens and her string compute_ms exactly", () => {
  const mine = rows.filter((r) => r.trace_id === traceIds[0]);
  expect(mine.map((r) => [r.usage_category, r.quantity, r.status, r.cost_center])).toEqual([
    ["ai_tokens", "1500", "sent", "support"],
    ["compute", "90000", "sent", "support"],
  ]);
  expect(meterTotal(h, alice, "ai_tokens")).toBe(150);
  expect(meterTotal(h, alice, "compute")).toBe(75);
});

it("bills bob through the propagated userId, usageDetails.total and a string storage_gb_hours", () => {
  const mine = rows.filter((r) => r.trace_id === traceIds[1]);
  expect(mine.map((r) => [r.usage_category, r.quantity, r.status, r.customer_ref])).toEqual([
    ["ai_tokens", "2500", "sent", bob.ref],
    ["storage", "73", "sent", bob.ref],
  ]);
  expect(meterTotal(h, bob, "ai_tokens")).toBe(250);
  expect(meterTotal(h, bob, "storage")).toBe(50);
});

it("nothing is quarantined and a second sync bills nothing twice", async () => {
  expect(rows.filter((r) => r.status !== "sent")).toEqual([]);
  await syncRecent(h);
  expect(meterTotal(h, alice, "ai_tokens")).toBe(150);
  expect(meterTotal(h, bob, "ai_tokens")).toBe(250);
  expect(h.stripeEmulator.recording.meterEvents()).toHaveLength(4);
});
