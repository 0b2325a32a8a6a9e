import { z } from "zod";

const nullish = <T extends z.ZodType>(schema: T) => schema.nullish();

/**
 * The bodies of legacy Langfuse batch events (`POST /api/public/ingestion`): `trace-create`, and
 * the observation events (`span-*`, `generation-*`, `event-create`, `observation-*`), after
 * Langfuse's `ingestionEvent` zod union (packages/shared/src/server/ingestion in
 * langfuse/langfuse). One declaration for the relay's converter and the Langfuse emulator; each
 * passes how strictly it checks times and the legacy `usage` object.
 */
export function legacyEventBodySchemas<Time extends z.ZodType<string>, Usage extends z.ZodType>(
  time: Time,
  usage: Usage,
) {
  const traceBody = z.object({
    id: nullish(z.string().min(1)),
    timestamp: nullish(time),
    name: nullish(z.string()),
    userId: nullish(z.string()),
    sessionId: nullish(z.string()),
    release: nullish(z.string()),
    version: nullish(z.string()),
    input: z.unknown().optional(),
    output: z.unknown().optional(),
    metadata: z.unknown().optional(),
    tags: nullish(z.array(z.string())),
    public: nullish(z.boolean()),
    environment: nullish(z.string()),
  });

  const observationBody = z.object({
    id: nullish(z.string().min(1)),
    traceId: nullish(z.string().min(1)),
    name: nullish(z.string()),
    startTime: nullish(time),
    endTime: nullish(time),
    completionStartTime: nullish(time),
    metadata: z.unknown().optional(),
    input: z.unknown().optional(),
    output: z.unknown().optional(),
    level: nullish(z.enum(["DEBUG", "DEFAULT", "WARNING", "ERROR"])),
    statusMessage: nullish(z.string()),
    parentObservationId: nullish(z.string()),
    version: nullish(z.string()),
    environment: nullish(z.string()),
    model: nullish(z.string()),
    modelParameters: z.unknown().optional(),
    usage: usage.optional(),
    usageDetails: nullish(z.record(z.string(), z.number().int().nonnegative())),
    costDetails: nullish(z.record(z.string(), z.number())),
    promptName: nullish(z.string()),
    promptVersion: nullish(z.number().int()),
  });

  return { traceBody, observationBody };
}
