import { CallbackHandler } from "@langfuse/langchain";
import { setLangfuseTracerProvider } from "@langfuse/tracing";
import type { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { createOpenAiStub, type OpenAiStub } from "@sparks/emulators";
import { afterAll, beforeAll, expect, it } from "vitest";
import { langfuseOtelProvider, stubChatChain } from "./langfuse-sdk.harness";
import type { CustomerFixture, Harness } from "./pipeline.harness";
import {
  billRecent,
  createSdkHarness,
  type LedgerRow,
  meterTotal,
  waitForObservations,
} from "./sdk-billing.helpers";

/**
 * Issue 15: an app that upgraded its LangChain integration to `@langfuse/langchain` 5.x: the
 * handler exports OTel spans (via `@langfuse/otel`) and propagates its `userId` and
 * `traceMetadata` (stringified, as the v5 SDK does) — Sparks bills what it wrote.
 */

let h: Harness;
let carol: CustomerFixture;
let provider: NodeTracerProvider;
let openai: OpenAiStub;
let rows: LedgerRow[];
const traceIds: string[] = [];

beforeAll(async () => {
  const sdk = await createSdkHarness(["cust_lc5_carol"]);
  h = sdk.h;
  [carol] = sdk.customers as [CustomerFixture];
  provider = langfuseOtelProvider(h);
  provider.register();
  setLangfuseTracerProvider(provider);
  openai = await createOpenAiStub({ promptTokens: 700, completionTokens: 300 });
  const chain = stubChatChain(openai.url);
  for (const question of ["one", "two"]) {
    const handler = new CallbackHandler({
      userId: "end-user-3",
      sessionId: "chat-1",
      // A number here reaches Langfuse as the string "30000" (the v5 SDK stringifies metadata).
      traceMetadata: { customer_id: carol.ref, compute_ms: 30_000, cost_center: "apps" },
    });
    await chain.invoke({ question }, { callbacks: [handler] });
    if (handler.last_trace_id) traceIds.push(handler.last_trace_id);
  }
  await provider.forceFlush();
  await waitForObservations(h, 4);
  rows = await billRecent(h);
}, 120_000);

afterAll(async () => {
  await provider?.shutdown();
  await openai?.close();
  await h?.close();
});

it("wrote two OTLP traces whose root carries the stringified trace metadata", () => {
  expect(traceIds).toHaveLength(2);
  expect(h.langfuse.otlpRequests.json).toBeGreaterThan(0);
  for (const id of traceIds) {
    const trace = h.langfuse.store.getTrace(id);
    expect(trace?.data.metadata).toMatchObject({ customer_id: carol.ref, compute_ms: "30000" });
  }
});

it("bills the generations' usage and the string compute_ms exactly", () => {
  for (const id of traceIds) {
    expect(
      rows.filter((r) => r.trace_id === id).map((r) => [r.usage_category, r.quantity, r.status]),
    ).toEqual([
      ["ai_tokens", "1000", "sent"],
      ["compute", "30000", "sent"],
    ]);
  }
  // 2 × 1,000 tokens = 200 Sparks; 2 × 30 s = 50 Sparks.
  expect(meterTotal(h, carol, "ai_tokens")).toBe(200);
  expect(meterTotal(h, carol, "compute")).toBe(50);
  expect(rows.filter((r) => r.status !== "sent")).toEqual([]);
});
