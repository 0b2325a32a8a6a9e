import { createHash, randomUUID } from "node:crypto";
import { z } from "zod";
import { legacyEventBodySchemas } from "./legacy-event.schema";

/**
 * Legacy Langfuse batch events (`POST /api/public/ingestion`, what Flowise 3.x's `langfuse` and
 * `langfuse-langchain` 3.x send) → OTLP/JSON spans that a Langfuse v4 server ingests at
 * `/api/public/otel/v1/traces`, with the attributes its `OtelIngestionProcessor` reads
 * (packages/shared/src/server/otel in langfuse/langfuse):
 *
 * - one span per observation, with `langfuse.observation.*` (type, model, usage_details as JSON,
 *   metadata as one JSON object so JSON types survive: Flowise's `1500` stays a number);
 * - one root span per trace carrying the trace (`langfuse.trace.name`, `user.id`,
 *   `session.id`, `langfuse.trace.metadata`, tags), under which top-level observations hang;
 * - the trace attributes are also copied onto every span, as the v5 SDK's `propagateAttributes`
 *   does, because a v4 server shows trace attributes on an observation only when propagated.
 *
 * Ids: OTel trace ids are 16 bytes, span ids 8. A UUID trace id keeps its value (hex without
 * hyphens); any other trace id and every observation id is mapped through SHA-256, stably, and
 * the original id is kept in metadata (`langfuse_legacy_id`). Legacy events are partial
 * (create, then update); the converter keeps each id's merged state so every span it emits is
 * complete — a v4 server keeps the last write of a span, it does not merge.
 */

const time = z.string().refine((v) => !Number.isNaN(Date.parse(v)), "must be an ISO date-time");
const count = z.number().int().nonnegative().nullish();

const usageSchema = z.unknown().superRefine((value, ctx) => {
  if (value === undefined || value === null) return;
  if (typeof value !== "object" || Array.isArray(value)) {
    ctx.addIssue({ code: "custom", message: "usage must be an object" });
    return;
  }
  const shape = z.object({
    promptTokens: count,
    completionTokens: count,
    totalTokens: count,
    input: count,
    output: count,
    total: count,
  });
  const result = shape.safeParse(value);
  if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ ...issue } as never);
});

const { traceBody, observationBody } = legacyEventBodySchemas(time, usageSchema);

type TraceBody = z.infer<typeof traceBody> & { sdkIntegration?: string };
type ObservationBody = z.infer<typeof observationBody>;

const OBSERVATION_EVENTS: Record<string, "span" | "generation" | "event"> = {
  "span-create": "span",
  "span-update": "span",
  "generation-create": "generation",
  "generation-update": "generation",
  "event-create": "event",
  "observation-create": "span",
  "observation-update": "span",
};
/** Forwarded to the legacy endpoint unchanged: a v4 server still accepts them. */
const PASS_THROUGH_EVENTS = new Set(["score-create"]);
/** Accepted and dropped: SDK diagnostics. */
const DROPPED_EVENTS = new Set(["sdk-log"]);

export interface EventResult {
  id: string;
  status: number;
  message?: string;
  error?: unknown;
}

export interface ConvertedBatch {
  /** An OTLP/JSON ExportTraceServiceRequest, or null when no span is due. */
  otlp: OtlpRequest | null;
  /** Legacy events to forward as they are (scores). */
  passThrough: unknown[];
  successes: EventResult[];
  errors: EventResult[];
}

export interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: number; doubleValue?: number; boolValue?: boolean };
}
export interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttribute[];
  status: { code: number; message?: string };
}
export interface OtlpRequest {
  resourceSpans: {
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: { scope: { name: string; version: string }; spans: OtlpJsonSpan[] }[];
  }[];
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const hash = (text: string, bytes: number) =>
  createHash("sha256")
    .update(text)
    .digest("hex")
    .slice(0, bytes * 2);

/** The OTel trace id (32 hex) of a legacy trace id. */
export function otelTraceId(legacyId: string): string {
  return UUID.test(legacyId) ? legacyId.replace(/-/g, "").toLowerCase() : hash(`trace:${legacyId}`, 16);
}
/** The OTel span id (16 hex) of a legacy observation id. */
export function otelSpanId(legacyObservationId: string): string {
  return hash(`observation:${legacyObservationId}`, 8);
}
const rootSpanId = (legacyTraceId: string) => hash(`trace-root:${legacyTraceId}`, 8);

function nanos(iso: string | null | undefined, fallbackMs: number): string {
  const ms = iso ? Date.parse(iso) : fallbackMs;
  return (BigInt(Number.isNaN(ms) ? fallbackMs : ms) * 1_000_000n).toString();
}

function str(key: string, value: unknown): OtlpAttribute | null {
  if (value === undefined || value === null) return null;
  return { key, value: { stringValue: typeof value === "string" ? value : JSON.stringify(value) } };
}

function json(key: string, value: unknown): OtlpAttribute | null {
  if (value === undefined || value === null) return null;
  return { key, value: { stringValue: JSON.stringify(value) } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Langfuse maps OpenAI-style usage (Agentflow V2) to input/output/total; so does the relay. */
function usageDetailsOf(body: ObservationBody): Record<string, number> | undefined {
  if (body.usageDetails) return body.usageDetails;
  const usage = body.usage as Record<string, number | null | undefined> | undefined | null;
  if (!usage) return undefined;
  const out: Record<string, number> = {};
  const pairs: [string, string][] = [
    ["promptTokens", "input"],
    ["completionTokens", "output"],
    ["totalTokens", "total"],
    ["input", "input"],
    ["output", "output"],
    ["total", "total"],
  ];
  for (const [from, to] of pairs) {
    const v = usage[from];
    if (typeof v === "number" && out[to] === undefined) out[to] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function merge<T extends Record<string, unknown>>(base: T | undefined, patch: T): T {
  const out: Record<string, unknown> = { ...(base ?? {}) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if (k === "metadata" && isRecord(out.metadata) && isRecord(v)) out.metadata = { ...out.metadata, ...v };
    else out[k] = v;
  }
  return out as T;
}

interface ObservationState {
  type: "span" | "generation" | "event";
  traceId: string;
  body: ObservationBody;
}

/** A bounded map that forgets the least recently touched ids first. */
class Recent<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest !== undefined) this.map.delete(oldest);
    }
  }
}

export interface ConverterOptions {
  /** Ids remembered for merging later updates; default 20,000 traces and 100,000 observations. */
  maxTraces?: number;
  maxObservations?: number;
  now?: () => number;
}

export class LegacyBatchConverter {
  private readonly traces: Recent<TraceBody & { id: string }>;
  private readonly observations: Recent<ObservationState>;
  private readonly now: () => number;

  constructor(options: ConverterOptions = {}) {
    this.traces = new Recent(options.maxTraces ?? 20_000);
    this.observations = new Recent(options.maxObservations ?? 100_000);
    this.now = options.now ?? Date.now;
  }

  /**
   * `sdkIntegration` (the sender's `x-langfuse-sdk-integration`, "Flowise" for Flowise) is kept in
   * the trace metadata as `sdk_integration`, so Sparks can say why a Flowise trace lacks a customer.
   */
  convert(batch: readonly unknown[], context: { sdkIntegration?: string } = {}): ConvertedBatch {
    const successes: EventResult[] = [];
    const errors: EventResult[] = [];
    const passThrough: unknown[] = [];
    const touchedTraces = new Set<string>();
    const touchedObservations = new Set<string>();
    for (const [index, raw] of batch.entries()) {
      const event = isRecord(raw) ? raw : {};
      const id = typeof event.id === "string" && event.id !== "" ? event.id : `batch[${index}]`;
      const type = typeof event.type === "string" ? event.type : "";
      if (typeof event.id !== "string" || event.id === "" || !isRecord(event.body)) {
        errors.push({
          id,
          status: 400,
          message: "Invalid request data",
          error: "an event needs an id and a body",
        });
        continue;
      }
      if (DROPPED_EVENTS.has(type)) {
        successes.push({ id, status: 201 });
        continue;
      }
      if (PASS_THROUGH_EVENTS.has(type)) {
        passThrough.push(raw);
        successes.push({ id, status: 201 });
        continue;
      }
      if (type === "trace-create") {
        const parsed = traceBody.safeParse(event.body);
        if (!parsed.success) {
          errors.push({ id, status: 400, message: "Invalid request data", error: parsed.error.issues });
          continue;
        }
        const traceId = parsed.data.id ?? randomUUID();
        const patch = {
          ...parsed.data,
          id: traceId,
          timestamp: parsed.data.timestamp ?? (event.timestamp as string),
          ...(context.sdkIntegration ? { sdkIntegration: context.sdkIntegration } : {}),
        };
        this.traces.set(traceId, merge(this.traces.get(traceId), patch));
        touchedTraces.add(traceId);
        successes.push({ id, status: 201 });
        continue;
      }
      const kind = OBSERVATION_EVENTS[type];
      if (!kind) {
        errors.push({
          id,
          status: 400,
          message: "Invalid request data",
          error: `unknown event type ${JSON.stringify(type)}`,
        });
        continue;
      }
      const parsed = observationBody.safeParse(event.body);
      if (!parsed.success) {
        errors.push({ id, status: 400, message: "Invalid request data", error: parsed.error.issues });
        continue;
      }
      const body = parsed.data;
      if (type.endsWith("-update") && !body.id) {
        errors.push({
          id,
          status: 400,
          message: "Invalid request data",
          error: "body.id is required for updates",
        });
        continue;
      }
      const observationId = body.id ?? randomUUID();
      const previous = this.observations.get(observationId);
      const traceId = body.traceId ?? previous?.traceId ?? randomUUID();
      const startTime =
        body.startTime ??
        previous?.body.startTime ??
        (typeof event.timestamp === "string" ? event.timestamp : null);
      this.observations.set(observationId, {
        // A generation-update may follow a span-create of the same id: the generation wins.
        type: previous && kind === "span" ? previous.type : kind,
        traceId,
        body: merge(previous?.body, { ...body, id: observationId, traceId, startTime }),
      });
      if (!this.traces.get(traceId)) {
        // An observation whose trace was never created gets one, as Langfuse does.
        this.traces.set(traceId, { id: traceId, timestamp: startTime ?? new Date(this.now()).toISOString() });
      }
      touchedTraces.add(traceId);
      touchedObservations.add(observationId);
      successes.push({ id, status: 201 });
    }
    const spans: OtlpJsonSpan[] = [];
    for (const traceId of touchedTraces) {
      const trace = this.traces.get(traceId);
      if (trace) spans.push(this.rootSpan(trace));
    }
    for (const observationId of touchedObservations) {
      const state = this.observations.get(observationId);
      if (state) spans.push(this.observationSpan(observationId, state));
    }
    return {
      otlp: spans.length === 0 ? null : wrap(spans),
      passThrough,
      successes,
      errors,
    };
  }

  /** Trace attributes, on the root span and propagated onto every observation span. */
  private traceAttributes(traceId: string): OtlpAttribute[] {
    const trace = this.traces.get(traceId);
    if (!trace) return [];
    const own = isRecord(trace.metadata)
      ? trace.metadata
      : trace.metadata === undefined || trace.metadata === null
        ? undefined
        : { metadata: trace.metadata };
    const metadata = trace.sdkIntegration ? { sdk_integration: trace.sdkIntegration, ...own } : own;
    return [
      str("langfuse.trace.name", trace.name),
      str("user.id", trace.userId),
      str("session.id", trace.sessionId),
      json(
        "langfuse.trace.metadata",
        metadata ? { ...metadata, langfuse_legacy_trace_id: traceId } : { langfuse_legacy_trace_id: traceId },
      ),
      trace.tags && trace.tags.length > 0
        ? { key: "langfuse.trace.tags", value: { stringValue: JSON.stringify(trace.tags) } }
        : null,
      str("langfuse.release", trace.release),
      str("langfuse.environment", trace.environment),
    ].filter((a): a is OtlpAttribute => a !== null);
  }

  private rootSpan(trace: TraceBody & { id: string }): OtlpJsonSpan {
    const start = nanos(trace.timestamp, this.now());
    return {
      traceId: otelTraceId(trace.id),
      spanId: rootSpanId(trace.id),
      name: trace.name ?? "trace",
      kind: 1,
      startTimeUnixNano: start,
      endTimeUnixNano: start,
      attributes: [
        ...this.traceAttributes(trace.id),
        { key: "langfuse.observation.type", value: { stringValue: "span" } },
        json("langfuse.trace.input", trace.input),
        json("langfuse.trace.output", trace.output),
        str("langfuse.version", trace.version),
      ].filter((a): a is OtlpAttribute => a !== null),
      status: { code: 0 },
    };
  }

  private observationSpan(observationId: string, state: ObservationState): OtlpJsonSpan {
    const b = state.body;
    const startMs = b.startTime ? Date.parse(b.startTime) : this.now();
    const start = nanos(b.startTime, this.now());
    const end = state.type === "event" ? start : nanos(b.endTime, startMs);
    const metadata = isRecord(b.metadata) ? b.metadata : b.metadata == null ? {} : { metadata: b.metadata };
    return {
      traceId: otelTraceId(state.traceId),
      spanId: otelSpanId(observationId),
      parentSpanId: b.parentObservationId ? otelSpanId(b.parentObservationId) : rootSpanId(state.traceId),
      name: b.name ?? state.type,
      kind: 1,
      startTimeUnixNano: start,
      endTimeUnixNano: end,
      attributes: [
        ...this.traceAttributes(state.traceId),
        { key: "langfuse.observation.type", value: { stringValue: state.type } },
        json("langfuse.observation.metadata", { ...metadata, langfuse_legacy_id: observationId }),
        json("langfuse.observation.input", b.input),
        json("langfuse.observation.output", b.output),
        str("langfuse.observation.level", b.level),
        str("langfuse.observation.status_message", b.statusMessage),
        str("langfuse.observation.model.name", b.model),
        json("langfuse.observation.model.parameters", b.modelParameters),
        json("langfuse.observation.usage_details", usageDetailsOf(b)),
        json("langfuse.observation.cost_details", b.costDetails),
        json("langfuse.observation.completion_start_time", b.completionStartTime),
        str("langfuse.observation.prompt.name", b.promptName),
        b.promptVersion == null
          ? null
          : { key: "langfuse.observation.prompt.version", value: { intValue: b.promptVersion } },
        str("langfuse.version", b.version),
        str("langfuse.environment", b.environment),
      ].filter((a): a is OtlpAttribute => a !== null),
      status:
        b.level === "ERROR"
          ? { code: 2, ...(b.statusMessage ? { message: b.statusMessage } : {}) }
          : { code: 0 },
    };
  }
}

function wrap(spans: OtlpJsonSpan[]): OtlpRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: "service.name", value: { stringValue: "sparks-relay" } }] },
        // Langfuse treats spans of scopes named langfuse-sdk* as its own SDK's (no raw attributes in metadata).
        scopeSpans: [{ scope: { name: "langfuse-sdk-sparks-relay", version: "1" }, spans }],
      },
    ],
  };
}
