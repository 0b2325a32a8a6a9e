import { OBSERVATION_TYPES, type ObservationType } from "../langfuse.types";
import type { IngestionWriter } from "./ingestion.writer";
import type { OtlpScopeSpans, OtlpSpan } from "./otlp.decoder";

/**
 * OTel spans → Langfuse traces and observations, after `OtelIngestionProcessor`
 * (packages/shared/src/server/otel/OtelIngestionProcessor.ts in langfuse/langfuse): the
 * `langfuse.*` attributes of the Langfuse SDKs, `gen_ai.*` usage of other instrumentations, and
 * trace attributes (`user.id`, `session.id`, `langfuse.trace.*`) that the v5 SDK's
 * `propagateAttributes` copies onto every span. Not emulated: input/output extraction of
 * third-party frameworks, media, tool calls, experiments, cost inference.
 */
const A = {
  traceName: "langfuse.trace.name",
  traceMetadata: "langfuse.trace.metadata",
  observationType: "langfuse.observation.type",
  observationMetadata: "langfuse.observation.metadata",
  level: "langfuse.observation.level",
  statusMessage: "langfuse.observation.status_message",
  input: "langfuse.observation.input",
  output: "langfuse.observation.output",
  traceInput: "langfuse.trace.input",
  traceOutput: "langfuse.trace.output",
  model: "langfuse.observation.model.name",
  modelParameters: "langfuse.observation.model.parameters",
  usageDetails: "langfuse.observation.usage_details",
  costDetails: "langfuse.observation.cost_details",
  completionStartTime: "langfuse.observation.completion_start_time",
  environment: "langfuse.environment",
  release: "langfuse.release",
  version: "langfuse.version",
  asRoot: "langfuse.internal.as_root",
  tags: "langfuse.trace.tags",
  public: "langfuse.trace.public",
} as const;

type Attrs = Record<string, unknown>;

function parseJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

/** `extractMetadata`: the JSON object attribute, then its dotted keys (`<prefix>.<key>`), which win. */
function metadataOf(attributes: Attrs, prefix: string): Record<string, unknown> {
  const top = parseJson(attributes[prefix] ?? attributes["langfuse.metadata"]);
  const out: Record<string, unknown> =
    typeof top === "object" && top !== null && !Array.isArray(top) ? { ...(top as object) } : {};
  for (const [key, value] of Object.entries(attributes)) {
    for (const p of [prefix, "langfuse.metadata"]) {
      if (key.startsWith(`${p}.`)) out[key.slice(p.length + 1)] = value;
    }
  }
  return out;
}

function firstString(attributes: Attrs, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = attributes[key];
    if (value !== undefined && value !== null && value !== "")
      return typeof value === "string" ? value : JSON.stringify(value);
  }
  return undefined;
}

const USAGE_KEY_MAP: Record<string, string> = {
  prompt_tokens: "input",
  completion_tokens: "output",
  total_tokens: "total",
  input_tokens: "input",
  output_tokens: "output",
  prompt: "input",
  completion: "output",
};

/**
 * `extractUsageDetails` + Langfuse's `UsageDetails` schema: the JSON attribute, else `gen_ai.usage.*`
 * and `llm.token_count.*` renamed to input/output/total. Usage that fails the schema (a value that
 * is not a non-negative integer) is dropped with a warning by Langfuse; so here.
 */
function usageOf(attributes: Attrs): Record<string, number> | undefined {
  let raw: Record<string, unknown> | undefined;
  const json = parseJson(attributes[A.usageDetails]);
  if (typeof json === "object" && json !== null && !Array.isArray(json))
    raw = json as Record<string, unknown>;
  else {
    raw = {};
    for (const [key, value] of Object.entries(attributes)) {
      if (
        (key.startsWith("gen_ai.usage.") && key !== "gen_ai.usage.cost") ||
        key.startsWith("llm.token_count.")
      ) {
        const short = key.replace("gen_ai.usage.", "").replace("llm.token_count.", "");
        const n = Number(value);
        if (!Number.isNaN(n)) raw[USAGE_KEY_MAP[short] ?? short] = n;
      }
    }
  }
  const entries = Object.entries(raw);
  if (entries.length === 0) return undefined;
  for (const [, value] of entries) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) return undefined;
  }
  return raw as Record<string, number>;
}

/** `ObservationTypeMapper`: the explicit Langfuse type, else a generation when a model or usage is there. */
function typeOf(
  attributes: Attrs,
  usage: Record<string, number> | undefined,
  model: string | undefined,
): ObservationType {
  const explicit = attributes[A.observationType];
  if (typeof explicit === "string") {
    const upper = explicit.toUpperCase();
    if ((OBSERVATION_TYPES as readonly string[]).includes(upper)) return upper as ObservationType;
  }
  if (attributes["gen_ai.operation.name"] !== undefined || model !== undefined || usage !== undefined) {
    return "GENERATION";
  }
  return "SPAN";
}

/** `hasTraceUpdates`: a span that carries trace attributes updates its trace. */
function hasTraceUpdates(attributes: Attrs): boolean {
  return Object.keys(attributes).some(
    (key) =>
      key === A.traceName ||
      key === A.traceInput ||
      key === A.traceOutput ||
      key === A.tags ||
      key === A.public ||
      key === "user.id" ||
      key === "session.id" ||
      key === "langfuse.user.id" ||
      key === "langfuse.session.id" ||
      key.startsWith(A.traceMetadata),
  );
}

function tagsOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.map(String);
  const parsed = parseJson(value);
  if (Array.isArray(parsed)) return parsed.map(String);
  return typeof value === "string" ? value.split(",").map((t) => t.trim()) : undefined;
}

function writeSpan(writer: IngestionWriter, group: OtlpScopeSpans, span: OtlpSpan): void {
  const attributes = span.attributes;
  const start = new Date(span.startTimeMs);
  const isRoot = span.parentSpanId === null || String(attributes[A.asRoot]) === "true";
  const observationMetadata = metadataOf(attributes, A.observationMetadata);
  const traceMetadata = metadataOf(attributes, A.traceMetadata);
  const userId = firstString(attributes, ["langfuse.user.id", "user.id"]);
  const sessionId = firstString(attributes, ["langfuse.session.id", "session.id", "gen_ai.conversation.id"]);
  const environment =
    firstString(attributes, [A.environment, "deployment.environment.name", "deployment.environment"]) ??
    firstString(group.resourceAttributes, [
      A.environment,
      "deployment.environment.name",
      "deployment.environment",
    ]);

  if (isRoot || hasTraceUpdates(attributes)) {
    writer.upsertTrace({
      id: span.traceId,
      ...(isRoot ? { timestamp: start, name: firstString(attributes, [A.traceName]) ?? span.name } : {}),
      ...(!isRoot && attributes[A.traceName] !== undefined ? { name: String(attributes[A.traceName]) } : {}),
      ...(userId === undefined ? {} : { userId }),
      ...(sessionId === undefined ? {} : { sessionId }),
      ...(environment === undefined ? {} : { environment }),
      ...(tagsOf(attributes[A.tags]) ? { tags: tagsOf(attributes[A.tags]) } : {}),
      ...(attributes[A.traceInput] !== undefined ? { input: attributes[A.traceInput] } : {}),
      ...(attributes[A.traceOutput] !== undefined ? { output: attributes[A.traceOutput] } : {}),
      metadata: isRoot ? { ...traceMetadata, ...observationMetadata } : traceMetadata,
    });
  } else {
    writer.ensureTrace(span.traceId, start);
  }

  const usage = usageOf(attributes);
  const model = firstString(attributes, [A.model, "gen_ai.response.model", "gen_ai.request.model", "model"]);
  const cost = parseJson(attributes[A.costDetails]);
  const completionStart = parseJson(attributes[A.completionStartTime]) ?? attributes[A.completionStartTime];
  const level = attributes[A.level] ?? (span.statusCode === 2 ? "ERROR" : "DEFAULT");
  writer.upsertObservation(
    {
      id: span.spanId,
      traceId: span.traceId,
      type: typeOf(attributes, usage, model),
      name: span.name,
      startTime: start,
      endTime: span.endTimeMs === null ? null : new Date(span.endTimeMs),
      completionStartTime:
        typeof completionStart === "string" && !Number.isNaN(Date.parse(completionStart))
          ? completionStart
          : null,
      parentObservationId: span.parentSpanId,
      level: (["DEBUG", "DEFAULT", "WARNING", "ERROR"].includes(String(level)) ? level : "DEFAULT") as
        | "DEBUG"
        | "DEFAULT"
        | "WARNING"
        | "ERROR",
      statusMessage: firstString(attributes, [A.statusMessage]) ?? span.statusMessage,
      version: firstString(attributes, [A.version]) ?? null,
      ...(environment === undefined ? {} : { environment }),
      input: attributes[A.input],
      output: attributes[A.output],
      // Langfuse v4 (processToEvent): observation metadata, then the propagated trace metadata.
      metadata: { ...observationMetadata, ...traceMetadata },
      model: model ?? null,
      modelParameters: parseJson(attributes[A.modelParameters]),
      ...(usage ? { usageDetails: usage } : {}),
      ...(typeof cost === "object" && cost !== null ? { costDetails: cost as Record<string, number> } : {}),
    },
    "SPAN",
  );
}

/** Writes every span; returns how many were written. */
export function writeOtlpSpans(writer: IngestionWriter, groups: readonly OtlpScopeSpans[]): number {
  let count = 0;
  for (const group of groups) {
    for (const span of group.spans) {
      writeSpan(writer, group, span);
      count++;
    }
  }
  return count;
}
