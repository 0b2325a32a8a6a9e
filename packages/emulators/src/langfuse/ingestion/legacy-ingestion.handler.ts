import { legacyEventBodySchemas } from "@sparks/relay";
import { z } from "zod";
import type { ObservationType } from "../langfuse.types";
import type { HandlerResult } from "../langfuse-handlers";
import { type IngestionWriter, newId, type ObservationPatch } from "./ingestion.writer";

/**
 * `POST /api/public/ingestion`, the legacy batch endpoint (JS SDK v3, `langfuse-langchain` 3.x,
 * Python v2; what Flowise 3.x sends). Modelled on Langfuse's `ingestionEvent` zod union and
 * `processEventBatch` (packages/shared/src/server/ingestion in langfuse/langfuse): every event is
 * validated on its own, valid ones are written, and the answer is 207 with `successes` and
 * `errors` per event id — a bad event never fails its batch. Writes are upserts by body id, so a
 * batch sent twice stores (and Sparks bills) the same thing once.
 *
 * Write mode `events_only` answers like a Langfuse v4 server in its default mode: trace, span,
 * generation and event events are refused per event with status 400 (score-create still accepted).
 */
export type LegacyIngestionMode = "enabled" | "events_only";

const timeString = z.union([z.string().datetime({ offset: true }), z.string().datetime({ local: true })]);

/** Langfuse accepts usage as {input, output, total, unit, …Cost} or OpenAI's camelCase counts. */
const usageCount = z.number().int().nonnegative().nullish();
const openAiUsageSchema = z.object({
  promptTokens: usageCount,
  completionTokens: usageCount,
  totalTokens: usageCount,
});
const langfuseUsageSchema = z.object({
  input: usageCount,
  output: usageCount,
  total: usageCount,
  unit: z.string().nullish(),
  inputCost: z.number().nullish(),
  outputCost: z.number().nullish(),
  totalCost: z.number().nullish(),
});
const usageSchema = z.unknown().superRefine((value, ctx) => {
  if (value === undefined || value === null) return;
  const isOpenAi =
    typeof value === "object" && ["promptTokens", "completionTokens", "totalTokens"].some((k) => k in value);
  const result = (isOpenAi ? openAiUsageSchema : langfuseUsageSchema).safeParse(value);
  if (!result.success)
    for (const issue of result.error.issues)
      ctx.addIssue({ ...issue, path: ["usage", ...issue.path] } as never);
});
const { traceBody, observationBody } = legacyEventBodySchemas(timeString, usageSchema);

const envelope = z.object({
  id: z.string().min(1),
  timestamp: timeString,
  metadata: z.unknown().optional(),
});

const OBSERVATION_EVENTS: Record<string, { type: ObservationType; update: boolean }> = {
  "span-create": { type: "SPAN", update: false },
  "span-update": { type: "SPAN", update: true },
  "generation-create": { type: "GENERATION", update: false },
  "generation-update": { type: "GENERATION", update: true },
  "event-create": { type: "EVENT", update: false },
  // The pre-typed SDKs' generic observation events.
  "observation-create": { type: "SPAN", update: false },
  "observation-update": { type: "SPAN", update: true },
};
/** Accepted and not stored: Sparks never reads them. */
const IGNORED_EVENTS = new Set(["score-create", "sdk-log"]);

const batchSchema = z.object({ batch: z.array(z.unknown()), metadata: z.unknown().optional() });

interface EventError {
  id: string;
  status: number;
  message: string;
  error?: unknown;
}

/** OpenAI-style counts become Langfuse's input/output/total, as its ingestion schema transforms them. */
function usageDetailsOf(body: z.infer<typeof observationBody>): Record<string, number> | undefined {
  if (body.usageDetails) return body.usageDetails;
  const usage = body.usage as Record<string, number | null | undefined> | null | undefined;
  if (!usage) return undefined;
  const out: Record<string, number> = {};
  const put = (key: string, value: number | null | undefined) => {
    if (typeof value === "number") out[key] = value;
  };
  if ("promptTokens" in usage || "completionTokens" in usage || "totalTokens" in usage) {
    const u = usage as {
      promptTokens?: number | null;
      completionTokens?: number | null;
      totalTokens?: number | null;
    };
    put("input", u.promptTokens);
    put("output", u.completionTokens);
    put("total", u.totalTokens);
  } else {
    const u = usage as { input?: number | null; output?: number | null; total?: number | null };
    put("input", u.input);
    put("output", u.output);
    put("total", u.total);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function orUndefined<T>(value: T | null | undefined): T | undefined {
  return value ?? undefined;
}

export function handleLegacyIngestion(
  body: unknown,
  writer: IngestionWriter,
  mode: LegacyIngestionMode,
): HandlerResult {
  const parsed = batchSchema.safeParse(body);
  if (!parsed.success) {
    return { status: 400, body: { message: "Invalid request data", error: parsed.error.issues } };
  }
  const successes: { id: string; status: number }[] = [];
  const errors: EventError[] = [];
  for (const [index, raw] of parsed.data.batch.entries()) {
    const rawId =
      typeof raw === "object" && raw !== null && typeof (raw as { id?: unknown }).id === "string"
        ? (raw as { id: string }).id
        : `batch[${index}]`;
    const env = envelope.safeParse(raw);
    if (!env.success) {
      errors.push({ id: rawId, status: 400, message: "Invalid request data", error: env.error.issues });
      continue;
    }
    const event = raw as { id: string; type?: unknown; body?: unknown };
    const type = typeof event.type === "string" ? event.type : "";
    try {
      if (IGNORED_EVENTS.has(type)) {
        successes.push({ id: event.id, status: 201 });
        continue;
      }
      const observationKind = OBSERVATION_EVENTS[type];
      if (type !== "trace-create" && !observationKind) {
        errors.push({
          id: event.id,
          status: 400,
          message: "Invalid request data",
          error: `unknown event type ${JSON.stringify(type)}: expected trace-create, span-create, span-update, generation-create, generation-update, event-create, score-create or sdk-log`,
        });
        continue;
      }
      if (mode === "events_only") {
        errors.push({
          id: event.id,
          status: 400,
          message:
            "Legacy ingestion of traces and observations is disabled on this server (events_only write mode). Send OpenTelemetry spans to /api/public/otel/v1/traces.",
        });
        continue;
      }
      if (type === "trace-create") {
        const b = traceBody.safeParse(event.body);
        if (!b.success) {
          errors.push({ id: event.id, status: 400, message: "Invalid request data", error: b.error.issues });
          continue;
        }
        const t = b.data;
        writer.upsertTrace({
          id: t.id ?? newId(),
          timestamp: orUndefined(t.timestamp),
          name: t.name,
          userId: t.userId,
          sessionId: t.sessionId,
          release: t.release,
          version: t.version,
          input: t.input,
          output: t.output,
          metadata: t.metadata,
          tags: orUndefined(t.tags),
          public: orUndefined(t.public),
          environment: orUndefined(t.environment),
        });
        successes.push({ id: event.id, status: 201 });
        continue;
      }
      const kind = observationKind;
      if (kind === undefined) continue; // unreachable: event types without a kind are answered above
      const b = observationBody.safeParse(event.body);
      if (!b.success) {
        errors.push({ id: event.id, status: 400, message: "Invalid request data", error: b.error.issues });
        continue;
      }
      const o = b.data;
      if (kind.update && !o.id) {
        errors.push({
          id: event.id,
          status: 400,
          message: "Invalid request data",
          error: "body.id is required for updates",
        });
        continue;
      }
      const id = o.id ?? newId();
      // An observation without a trace id gets a new trace of its own, as Langfuse does.
      const traceId = o.traceId ?? writer.traceIdOf(id) ?? newId();
      const patch: ObservationPatch = {
        id,
        traceId,
        type: kind.update ? undefined : kind.type,
        name: o.name,
        startTime: orUndefined(o.startTime) ?? (kind.update ? undefined : env.data.timestamp),
        endTime: o.endTime,
        completionStartTime: o.completionStartTime,
        metadata: o.metadata,
        input: o.input,
        output: o.output,
        level: orUndefined(o.level),
        statusMessage: o.statusMessage,
        parentObservationId: o.parentObservationId,
        version: o.version,
        environment: orUndefined(o.environment),
        model: o.model,
        modelParameters: o.modelParameters,
        usageDetails: usageDetailsOf(o),
        costDetails: orUndefined(o.costDetails),
        promptName: o.promptName,
        promptVersion: o.promptVersion,
      };
      writer.upsertObservation(patch, kind.type);
      successes.push({ id: event.id, status: 201 });
    } catch (error) {
      errors.push({ id: event.id, status: 400, message: (error as Error).message });
    }
  }
  return { status: 207, body: { successes, errors } };
}
