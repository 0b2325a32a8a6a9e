import { z } from "zod";
import { type EmulatedTraceRecord, OBSERVATION_LEVELS, OBSERVATION_TYPES } from "./langfuse.types";
import { LangfuseEmulatorInputError } from "./langfuse-emulator.error";

const time = z.union([z.string(), z.date()]);

const observationSchema = z.object({
  id: z.string().min(1),
  traceId: z.string().optional(),
  type: z.enum(OBSERVATION_TYPES),
  name: z.string().nullable().optional(),
  startTime: time,
  endTime: time.nullable().optional(),
  completionStartTime: time.nullable().optional(),
  parentObservationId: z.string().nullable().optional(),
  level: z.enum(OBSERVATION_LEVELS).optional(),
  statusMessage: z.string().nullable().optional(),
  version: z.string().nullable().optional(),
  environment: z.string().optional(),
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  metadata: z.unknown().optional(),
  model: z.string().nullable().optional(),
  modelParameters: z.unknown().optional(),
  usageDetails: z.record(z.string(), z.number()).optional(),
  costDetails: z.record(z.string(), z.number()).optional(),
  totalCost: z.number().nullable().optional(),
  promptName: z.string().nullable().optional(),
  promptVersion: z.number().int().nullable().optional(),
  visibleAt: time.optional(),
});

const traceSchema = z.object({
  id: z.string().min(1),
  timestamp: time,
  name: z.string().nullable().optional(),
  userId: z.string().nullable().optional(),
  sessionId: z.string().nullable().optional(),
  release: z.string().nullable().optional(),
  version: z.string().nullable().optional(),
  input: z.unknown().optional(),
  output: z.unknown().optional(),
  metadata: z.unknown().optional(),
  tags: z.array(z.string()).optional(),
  public: z.boolean().optional(),
  environment: z.string().optional(),
  visibleAt: time.optional(),
  observations: z.array(observationSchema).default([]),
});

const fileSchema = z.union([z.object({ traces: z.array(traceSchema) }), z.array(traceSchema)]);

/** Validates a seed document: `{ traces: [...] }` or a bare array of traces with nested observations. */
export function parseTraceRecords(data: unknown, source = "seed data"): EmulatedTraceRecord[] {
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid";
    throw new LangfuseEmulatorInputError(`${source} is not a Langfuse seed document (${where})`);
  }
  const traces = Array.isArray(parsed.data) ? parsed.data : parsed.data.traces;
  return traces.map(({ observations, ...trace }) => ({ trace, observations }));
}
