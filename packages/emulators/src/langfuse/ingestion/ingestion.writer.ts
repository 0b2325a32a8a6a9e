import { randomUUID } from "node:crypto";
import type { LangfuseStore } from "../langfuse.store";
import type { EmulatedObservation, EmulatedTrace, ObservationType } from "../langfuse.types";

/** A trace write: only the fields the event carried (undefined = not sent, keep what is stored). */
export type TracePatch = Partial<Omit<EmulatedTrace, "id" | "visibleAt">> & { id: string };

/** An observation write; `traceId` is required here (the writer creates a shallow trace if needed). */
export type ObservationPatch = Partial<Omit<EmulatedObservation, "id" | "traceId" | "visibleAt">> & {
  id: string;
  traceId: string;
};

/**
 * Langfuse stores metadata in ClickHouse as `Map(String, String)`: each value is written
 * JSON-encoded and read back through `parseMetadataCHRecordToDomain` (JSON.parse per value,
 * packages/shared in langfuse/langfuse). JSON types survive ("1500" stays a string, 1500 a number);
 * what JSON cannot hold does not (NaN and Infinity come back as null, undefined keys vanish).
 */
export function metadataRoundTrip(metadata: unknown): unknown {
  if (metadata === undefined || metadata === null) return metadata;
  if (typeof metadata !== "object" || Array.isArray(metadata)) {
    // Langfuse wraps a non-object metadata value as { metadata: value }.
    return { metadata: JSON.parse(JSON.stringify(metadata) ?? "null") };
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata as Record<string, unknown>)) {
    if (value === undefined) continue;
    out[key] = JSON.parse(JSON.stringify(value) ?? "null");
  }
  return out;
}

function mergeMetadata(stored: unknown, incoming: unknown): unknown {
  if (incoming === undefined) return stored;
  const next = metadataRoundTrip(incoming);
  // Langfuse merges metadata of repeated writes to one id key by key (later wins).
  if (
    typeof stored === "object" &&
    stored !== null &&
    !Array.isArray(stored) &&
    typeof next === "object" &&
    next !== null
  ) {
    return { ...(stored as Record<string, unknown>), ...(next as Record<string, unknown>) };
  }
  return next;
}

/** Copies the defined fields of `patch` over `base` (null is a value; undefined means "not sent"). */
function overlay<T extends object>(base: T, patch: Partial<T>): T {
  const out = { ...base } as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) if (value !== undefined) out[key] = value;
  return out as T;
}

/**
 * Applies ingested writes to the store the read API serves, as upserts by id (Langfuse merges
 * every event for one trace or observation id into one row). Ingested items become readable
 * `ingestionDelayMs` after they were received, like Langfuse's asynchronous ingestion.
 */
export class IngestionWriter {
  constructor(
    private readonly store: LangfuseStore,
    private readonly nowMs: () => number,
  ) {}

  private visibleAt(): Date {
    return new Date(this.nowMs() + this.store.ingestionDelayMs);
  }

  upsertTrace(patch: TracePatch): void {
    const existing = this.store.getTrace(patch.id)?.data;
    const { metadata, ...rest } = patch;
    const base: EmulatedTrace = existing ?? {
      id: patch.id,
      timestamp: patch.timestamp ?? new Date(this.nowMs()),
    };
    const merged = overlay(base, rest as Partial<EmulatedTrace>);
    merged.metadata = mergeMetadata(base.metadata, metadata);
    merged.visibleAt = this.visibleAt();
    this.store.addTrace(merged, []);
  }

  /** The trace an already stored observation belongs to (updates may omit the trace id). */
  traceIdOf(observationId: string): string | undefined {
    return this.store.getObservation(observationId)?.trace.id;
  }

  /** A trace that only exists because an observation named it ("shallow trace" in Langfuse). */
  ensureTrace(traceId: string, timestamp: Date | string): void {
    if (!this.store.getTrace(traceId)) this.upsertTrace({ id: traceId, timestamp });
  }

  upsertObservation(patch: ObservationPatch, defaultType: ObservationType): void {
    const stored = this.store.getObservation(patch.id);
    const startTime = patch.startTime ?? stored?.data.startTime ?? new Date(this.nowMs());
    this.ensureTrace(patch.traceId, startTime);
    const { metadata, traceId, ...rest } = patch;
    const base: EmulatedObservation = stored?.data ?? { id: patch.id, type: defaultType, startTime };
    const merged = overlay(base, rest as Partial<EmulatedObservation>);
    merged.traceId = traceId;
    merged.startTime = startTime;
    merged.metadata = mergeMetadata(base.metadata, metadata);
    merged.visibleAt = this.visibleAt();
    this.store.addObservations(traceId, [merged]);
  }
}

export const newId = (): string => randomUUID();
