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

function needsTruncation(metadata: Record<string, unknown>, expand: ReadonlySet<string>): boolean {
  for (const key in metadata) {
    const value = metadata[key];
    if (typeof value === "string" && value.length > METADATA_VALUE_LIMIT && !expand.has(key)) return true;
  }
  return false;
}

function truncatedMetadata(metadata: unknown, expand: ReadonlySet<string>): unknown {
  if (metadata === undefined) return null;
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) return metadata;
  // Served as stored when nothing is long (the common case): no copy per row.
  if (!needsTruncation(metadata as Record<string, unknown>, expand)) return metadata;
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

/**
 * An observation in the `ObservationV2` shape with only the requested field groups. Properties are
 * assigned one by one, group by group (no `Object.assign` of a temporary object per group): every
 * row of a page then shares one hidden class, which halves the cost of building and serializing
 * a page (the emulator's share of a benchmark run is on the same machine as Sparks).
 */
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
    out.name = d.name ?? null;
    out.level = d.level ?? "DEFAULT";
    out.statusMessage = d.statusMessage ?? null;
    out.version = d.version ?? null;
    out.environment = d.environment ?? trace.environment ?? "default";
    out.bookmarked = false;
    out.public = trace.public ?? false;
    out.userId = trace.userId ?? null;
    out.sessionId = trace.sessionId ?? null;
    out.isRootObservation = d.parentObservationId == null;
  }
  if (groups.has("time")) {
    out.completionStartTime = iso(o.completionStartMs);
    out.createdAt = iso(o.visibleAtMs);
    out.updatedAt = iso(o.visibleAtMs);
  }
  if (groups.has("io")) {
    out.input = rawIo(d.input);
    out.output = rawIo(d.output);
  }
  if (groups.has("metadata")) out.metadata = truncatedMetadata(d.metadata, ctx.expandMetadata);
  if (groups.has("model")) {
    out.providedModelName = d.model ?? null;
    out.internalModelId = price?.modelId ?? null;
    out.modelParameters = d.modelParameters ?? null;
  }
  if (groups.has("usage")) {
    out.usageDetails = d.usageDetails ?? {};
    out.costDetails = d.costDetails ?? {};
    out.totalCost = totalCostOf(o);
    out.usagePricingTierName = modelPrice(d.model) ? "Standard" : null;
  }
  if (groups.has("prompt")) {
    out.promptId = null;
    out.promptName = d.promptName ?? null;
    out.promptVersion = d.promptVersion ?? null;
  }
  if (groups.has("metrics")) {
    out.latency = seconds(o.sortMs, o.endMs);
    out.timeToFirstToken = seconds(o.sortMs, o.completionStartMs);
  }
  if (groups.has("trace_context")) {
    out.tags = trace.tags ?? [];
    out.release = trace.release ?? null;
    out.traceName = trace.name ?? null;
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
