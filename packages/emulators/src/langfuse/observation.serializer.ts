import type { StoredObservation, StoredTrace } from "./langfuse.store";
import { modelPrice, priceString } from "./model-prices";

export const FIELD_GROUPS = [
  "core",
  "basic",
  "time",
  "io",
  "metadata",
  "model",
  "usage",
  "prompt",
  "metrics",
  "trace_context",
] as const;
export type FieldGroup = (typeof FIELD_GROUPS)[number];

export interface SerializeContext {
  projectId: string;
  /** Metadata keys returned without the 200-character truncation (`expandMetadata`). */
  expandMetadata: ReadonlySet<string>;
}

const METADATA_VALUE_LIMIT = 200;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** v2 returns input/output as raw strings (see `parseIoAsJson` in the OpenAPI document). */
function rawIo(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === "string" ? value : JSON.stringify(value);
}

function truncatedMetadata(metadata: unknown, expand: ReadonlySet<string>): unknown {
  if (metadata === undefined) return null;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) return metadata;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) {
    out[key] =
      typeof value === "string" && value.length > METADATA_VALUE_LIMIT && !expand.has(key)
        ? value.slice(0, METADATA_VALUE_LIMIT)
        : value;
  }
  return out;
}

function seconds(fromMs: number, toMs: number | null): number | null {
  return toMs === null ? null : (toMs - fromMs) / 1000;
}

function totalCostOf(o: StoredObservation): number | null {
  return o.data.totalCost ?? o.data.costDetails?.total ?? null;
}

/** An observation in the `ObservationV2` shape with only the requested field groups. */
export function toObservationV2(
  o: StoredObservation,
  groups: ReadonlySet<FieldGroup>,
  ctx: SerializeContext,
): Record<string, unknown> {
  const d = o.data;
  const trace = o.trace.data;
  const price = groups.has("model") ? modelPrice(d.model) : undefined;
  // core fields, plus the four model fields the schema marks required (null unless `model`).
  const out: Record<string, unknown> = {
    id: o.id,
    traceId: o.trace.id,
    startTime: iso(o.sortMs),
    endTime: iso(o.endMs),
    projectId: ctx.projectId,
    parentObservationId: d.parentObservationId ?? null,
    type: d.type,
    modelId: price?.modelId ?? null,
    inputPrice: price ? priceString(price.input) : null,
    outputPrice: price ? priceString(price.output) : null,
    totalPrice: null,
  };
  if (groups.has("basic")) {
    Object.assign(out, {
      name: d.name ?? null,
      level: d.level ?? "DEFAULT",
      statusMessage: d.statusMessage ?? null,
      version: d.version ?? null,
      environment: d.environment ?? trace.environment ?? "default",
      bookmarked: false,
      public: trace.public ?? false,
      userId: trace.userId ?? null,
      sessionId: trace.sessionId ?? null,
      isRootObservation: d.parentObservationId == null,
    });
  }
  if (groups.has("time")) {
    Object.assign(out, {
      completionStartTime: iso(o.completionStartMs),
      createdAt: iso(o.visibleAtMs),
      updatedAt: iso(o.visibleAtMs),
    });
  }
  if (groups.has("io")) Object.assign(out, { input: rawIo(d.input), output: rawIo(d.output) });
  if (groups.has("metadata")) out.metadata = truncatedMetadata(d.metadata, ctx.expandMetadata);
  if (groups.has("model")) {
    Object.assign(out, {
      providedModelName: d.model ?? null,
      internalModelId: price?.modelId ?? null,
      modelParameters: d.modelParameters ?? null,
    });
  }
  if (groups.has("usage")) {
    Object.assign(out, {
      usageDetails: d.usageDetails ?? {},
      costDetails: d.costDetails ?? {},
      totalCost: totalCostOf(o),
      usagePricingTierName: modelPrice(d.model) ? "Standard" : null,
    });
  }
  if (groups.has("prompt")) {
    Object.assign(out, {
      promptId: null,
      promptName: d.promptName ?? null,
      promptVersion: d.promptVersion ?? null,
    });
  }
  if (groups.has("metrics")) {
    Object.assign(out, {
      latency: seconds(o.sortMs, o.endMs),
      timeToFirstToken: seconds(o.sortMs, o.completionStartMs),
    });
  }
  if (groups.has("trace_context")) {
    Object.assign(out, {
      tags: trace.tags ?? [],
      release: trace.release ?? null,
      traceName: trace.name ?? null,
    });
  }
  return out;
}

/** An observation in the legacy `ObservationsView` shape (every field, v1 API). */
export function toObservationsView(o: StoredObservation): Record<string, unknown> {
  const d = o.data;
  const usage = d.usageDetails ?? {};
  const cost = d.costDetails ?? {};
  const price = modelPrice(d.model);
  const input = usage.input ?? 0;
  const output = usage.output ?? 0;
  return {
    id: o.id,
    traceId: o.trace.id,
    type: d.type,
    name: d.name ?? null,
    startTime: iso(o.sortMs),
    endTime: iso(o.endMs),
    completionStartTime: iso(o.completionStartMs),
    model: d.model ?? null,
    modelParameters: d.modelParameters ?? null,
    input: d.input ?? null,
    version: d.version ?? null,
    metadata: d.metadata ?? null,
    output: d.output ?? null,
    usage: {
      input,
      output,
      total: usage.total ?? input + output,
      unit: d.usageDetails ? "TOKENS" : null,
      inputCost: cost.input ?? null,
      outputCost: cost.output ?? null,
      totalCost: totalCostOf(o),
    },
    level: d.level ?? "DEFAULT",
    statusMessage: d.statusMessage ?? null,
    parentObservationId: d.parentObservationId ?? null,
    promptId: null,
    usageDetails: usage,
    costDetails: cost,
    environment: d.environment ?? o.trace.data.environment ?? "default",
    promptName: d.promptName ?? null,
    promptVersion: d.promptVersion ?? null,
    modelId: price?.modelId ?? null,
    inputPrice: price?.input ?? null,
    outputPrice: price?.output ?? null,
    totalPrice: null,
    calculatedInputCost: cost.input ?? null,
    calculatedOutputCost: cost.output ?? null,
    calculatedTotalCost: totalCostOf(o),
    latency: seconds(o.sortMs, o.endMs),
    timeToFirstToken: seconds(o.sortMs, o.completionStartMs),
  };
}

export function visibleObservations(trace: StoredTrace, nowMs: number): StoredObservation[] {
  return trace.observations.pageDesc({ nowMs }, Number.POSITIVE_INFINITY);
}
