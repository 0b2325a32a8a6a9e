/**
 * Public data model of the Langfuse emulator. Times are accepted as ISO strings or Dates so
 * that JSON fixtures and generated traffic share one shape; the store normalizes them.
 */
export type TimeInput = string | Date;

/** Observation types the Langfuse OpenAPI document lists for `ObservationType`. */
export const OBSERVATION_TYPES = [
  "SPAN",
  "GENERATION",
  "EVENT",
  "AGENT",
  "TOOL",
  "CHAIN",
  "RETRIEVER",
  "EVALUATOR",
  "EMBEDDING",
  "GUARDRAIL",
] as const;
export type ObservationType = (typeof OBSERVATION_TYPES)[number];

export const OBSERVATION_LEVELS = ["DEBUG", "DEFAULT", "WARNING", "ERROR"] as const;
export type ObservationLevel = (typeof OBSERVATION_LEVELS)[number];

export interface EmulatedTrace {
  id: string;
  timestamp: TimeInput;
  name?: string | null;
  userId?: string | null;
  sessionId?: string | null;
  release?: string | null;
  version?: string | null;
  input?: unknown;
  output?: unknown;
  metadata?: unknown;
  tags?: string[];
  public?: boolean;
  environment?: string;
  /** When the trace becomes readable through the API; default `timestamp + ingestionDelayMs`. */
  visibleAt?: TimeInput;
}

export interface EmulatedObservation {
  id: string;
  /** Defaults to the id of the trace it is added with. */
  traceId?: string;
  type: ObservationType;
  name?: string | null;
  startTime: TimeInput;
  endTime?: TimeInput | null;
  completionStartTime?: TimeInput | null;
  parentObservationId?: string | null;
  level?: ObservationLevel;
  statusMessage?: string | null;
  version?: string | null;
  environment?: string;
  input?: unknown;
  output?: unknown;
  metadata?: unknown;
  /** Model name as provided by the caller (`providedModelName` in v2, `model` in v1). */
  model?: string | null;
  modelParameters?: unknown;
  usageDetails?: Record<string, number>;
  costDetails?: Record<string, number>;
  totalCost?: number | null;
  promptName?: string | null;
  promptVersion?: number | null;
  /** When the observation becomes readable; default `(endTime ?? startTime) + ingestionDelayMs`. */
  visibleAt?: TimeInput;
}

/** One trace with its observations: the unit of seeding (JSON files, generated traffic). */
export interface EmulatedTraceRecord {
  trace: EmulatedTrace;
  observations: EmulatedObservation[];
}
