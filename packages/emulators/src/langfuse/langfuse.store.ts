import { readFile } from "node:fs/promises";
import type { EmulatedObservation, EmulatedTrace, EmulatedTraceRecord, TimeInput } from "./langfuse.types";
import { LangfuseEmulatorInputError } from "./langfuse-emulator.error";
import { parseTraceRecords } from "./langfuse-fixture.schema";
import { SortedCollection } from "./sorted-collection";

export interface StoredTrace {
  readonly id: string;
  /** Trace timestamp in epoch ms (the sort key). */
  sortMs: number;
  visibleAtMs: number;
  data: EmulatedTrace;
  readonly observations: SortedCollection<StoredObservation>;
}

export interface StoredObservation {
  readonly id: string;
  /** Start time in epoch ms (the sort key). */
  sortMs: number;
  endMs: number | null;
  completionStartMs: number | null;
  visibleAtMs: number;
  data: EmulatedObservation;
  readonly trace: StoredTrace;
}

export interface LangfuseStoreOptions {
  /** Default delay between an item's time and its visibility through the API (ms). */
  ingestionDelayMs?: number;
}

export function toMs(value: TimeInput, field: string): number {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms))
    throw new LangfuseEmulatorInputError(`${field} is not a valid date: ${String(value)}`);
  return ms;
}

/**
 * In-memory Langfuse project. Traces and observations sit in (time, id)-sorted collections so
 * that window filters and cursors are binary searches; writes are upserts by id, as in Langfuse.
 */
export class LangfuseStore {
  private traceIndex = new SortedCollection<StoredTrace>();
  private observationIndex = new SortedCollection<StoredObservation>();
  private readonly traceById = new Map<string, StoredTrace>();
  private readonly observationById = new Map<string, StoredObservation>();
  ingestionDelayMs: number;

  constructor(options: LangfuseStoreOptions = {}) {
    this.ingestionDelayMs = options.ingestionDelayMs ?? 0;
  }

  /** Every trace, by (timestamp, id). */
  get traces(): SortedCollection<StoredTrace> {
    return this.traceIndex;
  }

  /** Every observation, by (startTime, id). */
  get observations(): SortedCollection<StoredObservation> {
    return this.observationIndex;
  }

  get traceCount(): number {
    return this.traceById.size;
  }

  get observationCount(): number {
    return this.observationById.size;
  }

  getTrace(id: string): StoredTrace | undefined {
    return this.traceById.get(id);
  }

  getObservation(id: string): StoredObservation | undefined {
    return this.observationById.get(id);
  }

  /** Upserts a trace and its observations. */
  addTrace(trace: EmulatedTrace, observations: readonly EmulatedObservation[] = []): void {
    const sortMs = toMs(trace.timestamp, `trace ${trace.id} timestamp`);
    const visibleAtMs =
      trace.visibleAt === undefined
        ? sortMs + this.ingestionDelayMs
        : toMs(trace.visibleAt, `trace ${trace.id} visibleAt`);
    const existing = this.traceById.get(trace.id);
    let stored: StoredTrace;
    if (existing) {
      if (existing.sortMs !== sortMs) this.traces.markDirty();
      existing.sortMs = sortMs;
      existing.visibleAtMs = visibleAtMs;
      existing.data = trace;
      this.traces.noteVisibility(visibleAtMs);
      stored = existing;
    } else {
      stored = { id: trace.id, sortMs, visibleAtMs, data: trace, observations: new SortedCollection() };
      this.traceById.set(trace.id, stored);
      this.traces.add(stored);
    }
    this.addObservationsTo(stored, observations);
  }

  /** Adds (or updates) observations of an existing trace, e.g. late-arriving generations. */
  addObservations(traceId: string, observations: readonly EmulatedObservation[]): void {
    const trace = this.traceById.get(traceId);
    if (!trace) throw new LangfuseEmulatorInputError(`unknown trace ${traceId}`);
    this.addObservationsTo(trace, observations);
  }

  addMany(records: Iterable<EmulatedTraceRecord>): number {
    let count = 0;
    for (const record of records) {
      this.addTrace(record.trace, record.observations);
      count++;
    }
    return count;
  }

  /** Loads `{ "traces": [{ ...trace, "observations": [...] }] }` (or the bare array); returns the trace count. */
  async loadFromJson(file: string): Promise<number> {
    const text = await readFile(file, "utf8");
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new LangfuseEmulatorInputError(`${file} is not JSON: ${(error as Error).message}`);
    }
    return this.addMany(parseTraceRecords(parsed, file));
  }

  clear(): void {
    this.traceById.clear();
    this.observationById.clear();
    this.traceIndex = new SortedCollection();
    this.observationIndex = new SortedCollection();
  }

  private addObservationsTo(trace: StoredTrace, observations: readonly EmulatedObservation[]): void {
    for (const observation of observations) {
      if (observation.traceId !== undefined && observation.traceId !== trace.id) {
        throw new LangfuseEmulatorInputError(
          `observation ${observation.id} names trace ${observation.traceId} but is added to ${trace.id}`,
        );
      }
      const label = `observation ${observation.id}`;
      const sortMs = toMs(observation.startTime, `${label} startTime`);
      const endMs = observation.endTime == null ? null : toMs(observation.endTime, `${label} endTime`);
      const completionStartMs =
        observation.completionStartTime == null
          ? null
          : toMs(observation.completionStartTime, `${label} completionStartTime`);
      // Langfuse receives a span when it ends (OTel export), so that is when ingestion starts.
      const visibleAtMs =
        observation.visibleAt === undefined
          ? (endMs ?? sortMs) + this.ingestionDelayMs
          : toMs(observation.visibleAt, `${label} visibleAt`);
      // Kept by reference (no copy): at 200k observations a copy per row doubles the footprint.
      const data = observation;
      const existing = this.observationById.get(observation.id);
      if (existing) {
        if (existing.trace !== trace) {
          throw new LangfuseEmulatorInputError(`${label} already belongs to trace ${existing.trace.id}`);
        }
        if (existing.sortMs !== sortMs) {
          this.observations.markDirty();
          trace.observations.markDirty();
        }
        Object.assign(existing, { sortMs, endMs, completionStartMs, visibleAtMs, data });
        this.observations.noteVisibility(visibleAtMs);
        trace.observations.noteVisibility(visibleAtMs);
        continue;
      }
      const stored: StoredObservation = {
        id: observation.id,
        sortMs,
        endMs,
        completionStartMs,
        visibleAtMs,
        data,
        trace,
      };
      this.observationById.set(stored.id, stored);
      this.observations.add(stored);
      trace.observations.add(stored);
    }
  }
}
