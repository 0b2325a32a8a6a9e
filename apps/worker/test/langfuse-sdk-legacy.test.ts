import { createOpenAiStub, type OpenAiStub } from "@sparks/emulators";
import { Langfuse } from "langfuse";
import { CallbackHandler } from "langfuse-langchain";
import { afterAll, beforeAll, expect, it } from "vitest";
import { langfuseCredentials, stubChatChain } from "./langfuse-sdk.harness";
import type { CustomerFixture, Harness } from "./pipeline.harness";
import {
  billRecent,
  createSdkHarness,
  type LedgerRow,
  meterTotal,
  waitForObservations,
} from "./sdk-billing.helpers";

/**
 * Issue 15: the legacy clients Flowise 3.x ships, writing legacy batches (`POST
 * /api/public/ingestion`) to the Langfuse emulator acting as a server before v4 (v1 read API only,
 * so Sparks reads through its LANGFUSE_API=auto fallback), and Sparks bills what they wrote:
 * - chatflows: `langfuse-langchain` 3.39.2's CallbackHandler on a LangChain chain with
 *   `ChatOpenAI` (streaming off) against a local OpenAI stub; its options are built the way
 *   Flowise builds them, the caller's `overrideConfig.analytics.langFuse` spread over the stored
 *   credentials (REFERENCE.md);
 * - Agentflow V2: the `langfuse` 3.x client with `usage: {promptTokens, completionTokens,
 *   totalTokens}` and no usageDetails.
 */

let h: Harness;
let alice: CustomerFixture;
let bob: CustomerFixture;
let openai: OpenAiStub;
let rows: LedgerRow[];
const chatTraceIds: string[] = [];
let agentTraceId = "";

beforeAll(async () => {
  const sdk = await createSdkHarness(["cust_flowise_alice", "cust_flowise_bob"], { langfuseApi: "auto" });
  h = sdk.h;
  [alice, bob] = sdk.customers as [CustomerFixture, CustomerFixture];
  h.langfuse.setRouteEnabled("v2Observations", false);
  openai = await createOpenAiStub({ promptTokens: 42, completionTokens: 8 });
  const stored = { ...langfuseCredentials(h), sdkIntegration: "Flowise" };

  // Three chatflow predictions, each with its own handler, as Flowise creates one per prediction.
  const chain = stubChatChain(openai.url);
  for (const question of ["What is Sparks?", "How are tokens billed?", "And compute?"]) {
    const overrideConfig = {
      analytics: {
        langFuse: { userId: alice.ref, metadata: { compute_ms: 60_000, cost_center: "sales" } },
      },
    };
    const handler = new CallbackHandler({ ...stored, ...overrideConfig.analytics.langFuse });
    await chain.invoke({ question }, { callbacks: [handler] });
    await handler.flushAsync();
    const traceId = handler.getTraceId();
    if (traceId) chatTraceIds.push(traceId);
    await handler.shutdownAsync();
  }

  // One Agentflow V2 run: the trace is created by Flowise with the caller's userId and metadata.
  const langfuse = new Langfuse(stored);
  const trace = langfuse.trace({
    name: "Agentflow",
    userId: bob.ref,
    metadata: { storage_gb_hours: "73", cost_center: "ops" },
  });
  agentTraceId = trace.id;
  const generation = trace.generation({ name: "llmAgentflow_0", model: "gpt-4o-mini", input: "hi" });
  generation.end({ output: "hello", usage: { promptTokens: 100, completionTokens: 20, totalTokens: 120 } });
  await langfuse.shutdownAsync();

  await waitForObservations(h, 1 + chatTraceIds.length * 3);
  rows = await billRecent(h);
}, 120_000);

afterAll(async () => {
  await openai?.close();
  await h?.close();
});

it("the clients wrote legacy batches: three chatflow traces and one agentflow trace", () => {
  expect(openai.calls).toBe(3);
  expect(chatTraceIds).toHaveLength(3);
  expect(h.langfuse.stats.count({ route: "POST /api/public/ingestion", status: 207 })).toBeGreaterThan(0);
  for (const id of chatTraceIds) {
    const trace = h.langfuse.store.getTrace(id);
    expect(trace?.data.userId).toBe(alice.ref);
    // JSON types kept: Flowise passes the caller's 60000 as a number.
    expect(trace?.data.metadata).toMatchObject({ compute_ms: 60_000, cost_center: "sales" });
  }
  const agent = h.langfuse.store.getTrace(agentTraceId);
  const generation = agent?.observations.pageDesc({ nowMs: Date.now() }, 10)[0];
  expect(generation?.data.usageDetails).toEqual({ input: 100, output: 20, total: 120 });
});

it("bills each chatflow prediction's tokens from the stub's usage and its compute_ms", () => {
  for (const id of chatTraceIds) {
    const mine = rows.filter((r) => r.trace_id === id);
    expect(mine.map((r) => [r.usage_category, r.quantity, r.status, r.cost_center])).toEqual([
      ["ai_tokens", "50", "sent", "sales"],
      ["compute", "60000", "sent", "sales"],
    ]);
  }
  // 3 × 50 tokens = 15 Sparks; 3 × 1 minute = 150 Sparks.
  expect(meterTotal(h, alice, "ai_tokens")).toBe(15);
  expect(meterTotal(h, alice, "compute")).toBe(150);
});

it("bills the Agentflow V2 trace from promptTokens/completionTokens/totalTokens", () => {
  const mine = rows.filter((r) => r.trace_id === agentTraceId);
  expect(mine.map((r) => [r.usage_category, r.quantity, r.status, r.customer_ref])).toEqual([
    ["ai_tokens", "120", "sent", bob.ref],
    ["storage", "73", "sent", bob.ref],
  ]);
  expect(meterTotal(h, bob, "ai_tokens")).toBe(12);
  expect(meterTotal(h, bob, "storage")).toBe(50);
});

it("nothing is quarantined", () => {
  expect(rows.filter((r) => r.status !== "sent")).toEqual([]);
});
