import { toMs } from "./langfuse.store";
import type { EmulatedObservation, EmulatedTrace, EmulatedTraceRecord, TimeInput } from "./langfuse.types";
import { LangfuseEmulatorInputError } from "./langfuse-emulator.error";
import { modelPrice } from "./model-prices";
import { SeededRandom } from "./seeded-random";

export type TrafficKind = "chat" | "compute" | "storage";

/** What is wrong with a deliberately bad trace, so tests can assert the quarantine reason. */
export type TrafficDefect =
  | "string_number"
  | "negative"
  | "not_a_number"
  | "huge_value"
  | "unknown_usage_category"
  | "missing_customer"
  | "unknown_customer";

export interface GeneratedTraceRecord extends EmulatedTraceRecord {
  kind: TrafficKind;
  defect?: TrafficDefect;
}

export interface FlowiseTrafficOptions {
  traces: number;
  /** A count (ids `cust_0001`…) or explicit customer ids; default 20. */
  customers?: number | readonly string[];
  from: TimeInput;
  to: TimeInput;
  seed?: number;
  /** Share (0–1) of traces with bad metadata; default 0. */
  badShare?: number;
  /** Shares of compute and storage traces; the rest are chat traces. Defaults 0.15 and 0.05. */
  computeShare?: number;
  storageShare?: number;
  /** Share of traces whose observations arrive late (explicit `visibleAt`); default 0. */
  lateShare?: number;
  /** Upper bound of that lateness (ms); default 15 minutes. */
  maxLateMs?: number;
  /**
   * Copy the trace metadata into each observation's metadata, as Langfuse v4 does for attributes
   * propagated by the SDK, so readers of v2 observations see `customer_id` etc. Default true.
   */
  propagateMetadata?: boolean;
}

interface Chatflow {
  name: string;
  chain: string;
  llm: string;
  model: string;
  retriever: boolean;
  tools: number;
}

const CHATFLOWS: readonly Chatflow[] = [
  {
    name: "Support Assistant",
    chain: "ConversationalRetrievalQAChain",
    llm: "ChatOpenAI",
    model: "gpt-4o-mini",
    retriever: true,
    tools: 0,
  },
  {
    name: "Sales Copilot",
    chain: "LLMChain",
    llm: "ChatOpenAI",
    model: "gpt-4o",
    retriever: false,
    tools: 0,
  },
  {
    name: "Doc QA",
    chain: "RetrievalQAChain",
    llm: "ChatAnthropic",
    model: "claude-3-5-haiku-20241022",
    retriever: true,
    tools: 0,
  },
  {
    name: "Research Agent",
    chain: "AgentExecutor",
    llm: "ChatOpenAI",
    model: "gpt-4o-mini",
    retriever: false,
    tools: 2,
  },
];
const TIERS = ["free", "standard", "enterprise"] as const;
const COST_CENTERS = ["default", "support", "sales", "research", "marketing"] as const;
const DEFECTS: readonly TrafficDefect[] = [
  "string_number",
  "negative",
  "not_a_number",
  "huge_value",
  "unknown_usage_category",
  "missing_customer",
  "unknown_customer",
];

interface Customer {
  id: string;
  tier: (typeof TIERS)[number];
  costCenter: string;
}

function customersOf(option: FlowiseTrafficOptions["customers"], rng: SeededRandom): Customer[] {
  const ids =
    option === undefined || typeof option === "number"
      ? Array.from({ length: option ?? 20 }, (_, i) => `cust_${String(i + 1).padStart(4, "0")}`)
      : [...option];
  if (ids.length === 0)
    throw new LangfuseEmulatorInputError("generateFlowiseTraffic needs at least one customer");
  return ids.map((id) => ({ id, tier: rng.pick(TIERS), costCenter: rng.pick(COST_CENTERS) }));
}

// Shared, never-mutated payloads: per-row copies would dominate memory at 200k observations.
const MODEL_PARAMETERS = Object.freeze({ temperature: 0.7, maxTokens: 1024 });
const GENERATION_INPUT = Object.freeze([
  Object.freeze({ role: "user", content: "What does my plan include?" }),
]);
const GENERATION_OUTPUT = Object.freeze({ role: "assistant", content: "Your plan includes …" });
const CHAT_INPUT = Object.freeze({ question: "What does my plan include?" });
const CHAT_OUTPUT = Object.freeze({ text: "Your plan includes …" });

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** Builds one trace of a kind; `ctx` carries the shared pieces. */
class TraceBuilder {
  readonly observations: EmulatedObservation[] = [];

  constructor(
    private readonly rng: SeededRandom,
    readonly traceId: string,
    readonly startMs: number,
  ) {}

  add(
    type: EmulatedObservation["type"],
    name: string,
    offsetMs: number,
    durationMs: number,
    parent: string | null,
    extra: Partial<EmulatedObservation> = {},
  ): string {
    const id = this.rng.hex(16);
    this.observations.push({
      id,
      traceId: this.traceId,
      type,
      name,
      startTime: new Date(this.startMs + offsetMs),
      endTime: new Date(this.startMs + offsetMs + durationMs),
      parentObservationId: parent,
      ...extra,
    });
    return id;
  }
}

function generation(
  b: TraceBuilder,
  rng: SeededRandom,
  flow: Chatflow,
  offsetMs: number,
  parent: string,
  tokenScale: number,
): number {
  const input = rng.int(200, 3000) * tokenScale;
  const output = rng.int(20, 800) * tokenScale;
  const price = modelPrice(flow.model);
  const inputCost = round(input * (price?.input ?? 0), 10);
  const outputCost = round(output * (price?.output ?? 0), 10);
  const durationMs = rng.int(300, 4000);
  b.add("GENERATION", flow.llm, offsetMs, durationMs, parent, {
    model: flow.model,
    modelParameters: MODEL_PARAMETERS,
    completionStartTime: new Date(b.startMs + offsetMs + rng.int(100, 900)),
    usageDetails: { input, output, total: input + output },
    costDetails: { input: inputCost, output: outputCost, total: round(inputCost + outputCost, 10) },
    totalCost: round(inputCost + outputCost, 10),
    input: GENERATION_INPUT,
    output: GENERATION_OUTPUT,
  });
  return durationMs;
}

function chatTrace(
  b: TraceBuilder,
  rng: SeededRandom,
  flow: Chatflow,
  defect: TrafficDefect | undefined,
): void {
  let cursor = rng.int(1, 5);
  const root = b.add("CHAIN", flow.chain, 0, 0, null, { input: CHAT_INPUT, output: CHAT_OUTPUT });
  if (flow.retriever) {
    const d = rng.int(40, 300);
    b.add("RETRIEVER", "VectorStoreRetriever", cursor, d, root);
    cursor += d;
  }
  for (let i = 0; i < flow.tools; i++) {
    const d = rng.int(50, 1500);
    b.add("TOOL", rng.pick(["web-search", "calculator", "http-request"]), cursor, d, root);
    cursor += d;
  }
  const generations = flow.tools > 0 ? rng.int(2, 3) : 1;
  for (let i = 0; i < generations; i++) {
    // A huge token count on one generation pushes the trace's ai_tokens item past any sane cap.
    const scale = defect === "huge_value" && i === 0 ? 10_000_000 : 1;
    cursor += generation(b, rng, flow, cursor, root, scale);
  }
  if (defect === "negative") {
    const g = b.observations.find((o) => o.type === "GENERATION");
    if (g?.usageDetails) g.usageDetails = { input: -500, output: -20, total: -520 };
  }
  const rootObs = b.observations[0];
  if (rootObs) rootObs.endTime = new Date(b.startMs + cursor + rng.int(1, 20));
}

function badQuantity(
  defect: TrafficDefect | undefined,
  good: number,
  huge: number,
  rng: SeededRandom,
): unknown {
  switch (defect) {
    case "string_number":
      // SPEC §2: "1500" is a valid quantity (v5 SDKs propagate strings); "1.5k" is not.
      return `${Math.round(good) / 1000}k`;
    case "negative":
      return -good;
    case "not_a_number":
      return rng.pick(["NaN", "Infinity", "n/a", null]);
    case "huge_value":
      return huge;
    default:
      return good;
  }
}

/**
 * Deterministic (by seed) Flowise→Langfuse traffic: chat traces (chain, retriever/tool spans,
 * generations with token usage and cost), compute traces (`compute_ms`) and storage traces
 * (`storage_gb_hours`), with a `badShare` of traces carrying the defects Sparks must quarantine.
 */
export function generateFlowiseTraffic(options: FlowiseTrafficOptions): GeneratedTraceRecord[] {
  const fromMs = toMs(options.from, "from");
  const toMsValue = toMs(options.to, "to");
  if (!(toMsValue > fromMs)) throw new LangfuseEmulatorInputError("generateFlowiseTraffic needs from < to");
  if (!Number.isInteger(options.traces) || options.traces < 0) {
    throw new LangfuseEmulatorInputError("traces must be a non-negative integer");
  }
  const rng = new SeededRandom(options.seed ?? 1);
  const customers = customersOf(options.customers, rng);
  const computeShare = options.computeShare ?? 0.15;
  const storageShare = options.storageShare ?? 0.05;
  const maxLateMs = options.maxLateMs ?? 15 * 60_000;
  const propagate = options.propagateMetadata ?? true;
  const sessions = new Map<string, string>();
  const out: GeneratedTraceRecord[] = [];

  for (let n = 0; n < options.traces; n++) {
    const startMs = fromMs + Math.floor(rng.next() * (toMsValue - fromMs));
    const customer = rng.pick(customers);
    const defect = rng.chance(options.badShare ?? 0) ? rng.pick(DEFECTS) : undefined;
    const roll = rng.next();
    let kind: TrafficKind =
      roll < computeShare ? "compute" : roll < computeShare + storageShare ? "storage" : "chat";
    // Metadata quantities only exist on compute and storage traces; token counts are integers by schema.
    if (kind === "chat" && (defect === "string_number" || defect === "not_a_number")) kind = "compute";

    const traceId = rng.hex(32);
    const b = new TraceBuilder(rng, traceId, startMs);
    const metadata: Record<string, unknown> = {
      customer_id: customer.id,
      subscription_tier: customer.tier,
      cost_center: customer.costCenter,
    };
    let name: string;
    let sessionId: string | null = null;
    let tags: string[];

    if (kind === "chat") {
      const flow = rng.pick(CHATFLOWS);
      name = flow.name;
      const sessionKey = `${customer.id}/${flow.name}`;
      let session = sessions.get(sessionKey);
      if (session === undefined || rng.chance(0.3)) {
        session = `chat-${rng.hex(12)}`;
        sessions.set(sessionKey, session);
      }
      sessionId = session;
      tags = ["flowise", flow.name.toLowerCase().replaceAll(" ", "-")];
      if (rng.chance(0.5)) metadata.usage_category = "ai_tokens";
      metadata.flowise_chatflow = flow.name;
      chatTrace(b, rng, flow, defect);
    } else if (kind === "compute") {
      name = rng.pick(["code-interpreter", "sandbox-run", "batch-transform"]);
      tags = ["flowise", "compute"];
      const computeMs = round(rng.next() * 120_000 + 50, 3);
      metadata.usage_category = "compute";
      metadata.compute_ms = badQuantity(defect, computeMs, 9e15, rng);
      b.add("SPAN", name, 0, Math.min(Math.round(computeMs), 600_000), null);
    } else {
      name = "vector-store-usage";
      tags = ["flowise", "storage"];
      metadata.usage_category = "storage";
      metadata.storage_gb_hours = badQuantity(defect, round(rng.next() * 50 + 0.01, 4), 5e12, rng);
      b.add("EVENT", "storage-meter", 0, 0, null);
    }

    let userId: string | null = customer.id;
    if (defect === "unknown_usage_category") metadata.usage_category = "gpu_seconds";
    if (defect === "missing_customer") {
      delete metadata.customer_id;
      userId = null;
    }
    if (defect === "unknown_customer") {
      metadata.customer_id = `cust_unknown_${rng.hex(6)}`;
      userId = metadata.customer_id as string;
    }

    const trace: EmulatedTrace = {
      id: traceId,
      timestamp: new Date(startMs),
      name,
      userId,
      sessionId,
      metadata,
      tags,
      release: "flowise-2.2.7",
      environment: "default",
      input: kind === "chat" ? CHAT_INPUT : null,
      output: kind === "chat" ? CHAT_OUTPUT : null,
    };
    const late = rng.chance(options.lateShare ?? 0);
    for (const o of b.observations) {
      // One shared object per trace keeps 200k observations cheap in memory.
      if (propagate) o.metadata = metadata;
      if (late)
        o.visibleAt = new Date(toMs(o.endTime ?? o.startTime, "endTime") + rng.int(60_000, maxLateMs));
    }
    out.push({ trace, observations: b.observations, kind, ...(defect ? { defect } : {}) });
  }
  return out;
}
