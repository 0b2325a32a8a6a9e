import { createOpenAiStub, type OpenAiStub } from "@sparks/emulators";
import { createRelay, otelTraceId, type Relay } from "@sparks/relay";
import { CallbackHandler } from "langfuse-langchain";
import { afterAll, beforeAll, expect, it } from "vitest";
import { langfuseCredentials, stubChatChain } from "./langfuse-sdk.harness";
import type { CustomerFixture, Harness } from "./pipeline.harness";
import { billRecent, createSdkHarness, type LedgerRow, meterTotal } from "./sdk-billing.helpers";

/**
 * Issue 15 item 3: Flowise after the v4 cut-over. The Langfuse emulator acts as a v4 server in
 * events_only mode: legacy batches from `langfuse-langchain` 3.39.2 (Flowise's chatflow client)
 * sent to it directly are refused and Sparks has nothing to bill; sent through `sparks relay`
 * they arrive as OTLP, and Sparks (reading v2 observations) bills exactly what Flowise traced.
 */

let h: Harness;
let dana: CustomerFixture;
let openai: OpenAiStub;
let relay: Relay;
let rows: LedgerRow[];
const relayedTraceIds: string[] = [];
let directTraceId = "";
let noOverrideTraceId = "";
const billing = () => ({ userId: dana.ref, metadata: { compute_ms: 6000, cost_center: "relay" } });

/** One Flowise chatflow prediction; `override` null is a chatflow whose Override Configuration is off. */
async function prediction(
  baseUrl: string,
  question: string,
  override: { userId: string; metadata: Record<string, unknown> } | null,
): Promise<string> {
  const chain = stubChatChain(openai.url);
  // Flowise: the stored credential, then the caller's overrideConfig.analytics.langFuse over it.
  const handler = new CallbackHandler({
    ...langfuseCredentials(h),
    baseUrl,
    sdkIntegration: "Flowise",
    ...override,
  });
  await chain.invoke({ question }, { callbacks: [handler] });
  await handler.shutdownAsync();
  return handler.getTraceId() ?? "";
}

beforeAll(async () => {
  const sdk = await createSdkHarness(["cust_relay_dana"]);
  h = sdk.h;
  [dana] = sdk.customers as [CustomerFixture];
  h.langfuse.setLegacyIngestion("events_only");
  openai = await createOpenAiStub({ promptTokens: 90, completionTokens: 10 });
  relay = await createRelay({ targetUrl: h.langfuse.url });

  directTraceId = await prediction(h.langfuse.url, "straight to Langfuse v4", billing());
  for (const q of ["via the relay 1", "via the relay 2", "via the relay 3"]) {
    relayedTraceIds.push(await prediction(relay.url, q, billing()));
  }
  noOverrideTraceId = await prediction(relay.url, "override off", null);
  await relay.drained();
  rows = await billRecent(h);
}, 120_000);

afterAll(async () => {
  await relay?.close();
  await openai?.close();
  await h?.close();
});

it("a v4 server in events_only mode refuses Flowise's legacy batch: nothing stored, nothing billed", () => {
  expect(directTraceId).not.toBe("");
  expect(h.langfuse.store.getTrace(directTraceId)).toBeUndefined();
  expect(h.langfuse.store.getTrace(otelTraceId(directTraceId))).toBeUndefined();
  expect(rows.filter((r) => r.trace_id === otelTraceId(directTraceId))).toEqual([]);
});

it("through the relay every prediction is stored as OTLP spans with the caller's user and metadata", () => {
  expect(relay.stats()).toMatchObject({ dropped: 0 });
  for (const id of relayedTraceIds) {
    const trace = h.langfuse.store.getTrace(otelTraceId(id));
    expect(trace?.data.userId).toBe(dana.ref);
    expect(trace?.data.metadata).toMatchObject({ compute_ms: 6000, langfuse_legacy_trace_id: id });
    const generations = trace?.observations
      .pageDesc({ nowMs: Date.now() }, 50)
      .filter((o) => o.data.type === "GENERATION");
    expect(generations?.map((g) => g.data.usageDetails?.total)).toEqual([100]);
  }
});

it("Sparks bills the relayed predictions exactly, keyed by their OTel trace ids", () => {
  for (const id of relayedTraceIds) {
    expect(
      rows
        .filter((r) => r.trace_id === otelTraceId(id))
        .map((r) => [r.usage_category, r.quantity, r.status, r.cost_center]),
    ).toEqual([
      ["ai_tokens", "100", "sent", "relay"],
      ["compute", "6000", "sent", "relay"],
    ]);
  }
  // 3 × 100 tokens = 30 Sparks; 3 × 6 s = 15 Sparks.
  expect(meterTotal(h, dana, "ai_tokens")).toBe(30);
  expect(meterTotal(h, dana, "compute")).toBe(15);
});

it("a Flowise trace without a customer (Override Configuration off) is quarantined saying so", () => {
  const mine = rows.filter((r) => r.trace_id === otelTraceId(noOverrideTraceId));
  expect(mine.map((r) => [r.usage_category, r.status])).toEqual([["ai_tokens", "quarantined"]]);
  expect(mine[0]?.reason).toContain("enable the chatflow's Override Configuration");
  expect(rows.filter((r) => r.status !== "sent").map((r) => r.trace_id)).toEqual([
    otelTraceId(noOverrideTraceId),
  ]);
});
