import { z } from "zod";

/**
 * v1 responses: only the fields Sparks reads, checked at the boundary; unknown fields are ignored
 * and usage/metadata stay `unknown` so their raw values reach core's validation untouched. (v2
 * pages, the hot path, are checked and mapped in one pass by v2-page.decoder.ts.)
 */
const isoTime = z.string().refine((v) => !Number.isNaN(Date.parse(v)), "not an ISO date-time");

export const observationV1Schema = z.object({
  id: z.string().min(1),
  traceId: z.string().nullable(),
  type: z.string(),
  startTime: isoTime,
  parentObservationId: z.string().nullable().optional(),
  metadata: z.unknown().optional(),
  usageDetails: z.unknown().optional(),
  costDetails: z.unknown().optional(),
  calculatedTotalCost: z.number().nullable().optional(),
});
export type ObservationV1Row = z.infer<typeof observationV1Schema>;

const pageMetaSchema = z.object({
  page: z.number(),
  limit: z.number(),
  totalItems: z.number().optional(),
  totalPages: z.number(),
});

export const observationsV1PageSchema = z.object({
  data: z.array(observationV1Schema),
  meta: pageMetaSchema,
});

export const traceV1Schema = z.object({
  id: z.string().min(1),
  timestamp: isoTime,
  userId: z.string().nullable().optional(),
  metadata: z.unknown().optional(),
});
export type TraceV1Row = z.infer<typeof traceV1Schema>;

export const tracesV1PageSchema = z.object({ data: z.array(traceV1Schema), meta: pageMetaSchema });
