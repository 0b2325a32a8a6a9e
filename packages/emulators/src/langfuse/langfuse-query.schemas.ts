import { z } from "zod";
import { decodeCursor } from "./cursor.codec";
import { OBSERVATION_LEVELS } from "./langfuse.types";
import { FIELD_GROUPS, type FieldGroup } from "./observation.serializer";

/** Query values arrive as strings (arrays when repeated); take the last like Next.js does. */
const single = z.preprocess((v) => (Array.isArray(v) ? v[v.length - 1] : v), z.string().optional());
const optionalString = single.pipe(z.string().optional());
const dateTime = single.pipe(
  z.iso
    .datetime({ offset: true, local: false })
    .transform((v) => Date.parse(v))
    .optional(),
);
const intIn = (min: number, max: number) =>
  single.pipe(
    z
      .string()
      .regex(/^-?\d+$/, "Expected an integer")
      .transform(Number)
      .pipe(z.number().int().min(min).max(max))
      .optional(),
  );
const booleanString = single.pipe(
  z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
);

/** Langfuse's structured `filter` parameter: accepted by the API, not emulated (400). */
const unsupportedFilter = optionalString.pipe(
  z
    .string()
    .optional()
    .refine((v) => v === undefined, "The structured `filter` parameter is not supported by the emulator"),
);

export const observationsV2QuerySchema = z.object({
  fields: optionalString.pipe(
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        const groups = new Set<FieldGroup>(["core"]);
        const requested = v === undefined || v.trim() === "" ? ["basic"] : v.split(",").map((s) => s.trim());
        for (const group of requested) {
          if (group === "") continue;
          if (!(FIELD_GROUPS as readonly string[]).includes(group)) {
            ctx.addIssue({
              code: "custom",
              message: `Invalid field group '${group}'. Available: ${FIELD_GROUPS.join(", ")}`,
            });
            return z.NEVER;
          }
          groups.add(group as FieldGroup);
        }
        return groups;
      }),
  ),
  expandMetadata: optionalString,
  limit: intIn(1, 1000),
  cursor: optionalString.pipe(
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        const key = decodeCursor(v);
        if (!key) {
          ctx.addIssue({ code: "custom", message: "Invalid cursor" });
          return z.NEVER;
        }
        return key;
      }),
  ),
  parseIoAsJson: booleanString.pipe(
    z
      .boolean()
      .optional()
      .refine((v) => v !== true, "parseIoAsJson=true is no longer supported; input/output are raw strings"),
  ),
  name: optionalString,
  userId: optionalString,
  sessionId: optionalString,
  type: optionalString,
  traceId: optionalString,
  level: single.pipe(z.enum(OBSERVATION_LEVELS).optional()),
  parentObservationId: optionalString,
  isRootObservation: booleanString,
  environment: z.preprocess(
    (v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]),
    z.array(z.string()).optional(),
  ),
  fromStartTime: dateTime,
  toStartTime: dateTime,
  version: optionalString,
  filter: unsupportedFilter,
});
export type ObservationsV2Query = z.infer<typeof observationsV2QuerySchema>;

export const legacyObservationsQuerySchema = z.object({
  page: intIn(1, Number.MAX_SAFE_INTEGER),
  limit: intIn(1, 100),
  name: optionalString,
  userId: optionalString,
  type: optionalString,
  traceId: optionalString,
  level: single.pipe(z.enum(OBSERVATION_LEVELS).optional()),
  parentObservationId: optionalString,
  fromStartTime: dateTime,
  toStartTime: dateTime,
  version: optionalString,
  filter: unsupportedFilter,
});
export type LegacyObservationsQuery = z.infer<typeof legacyObservationsQuerySchema>;

export const legacyTracesQuerySchema = z.object({
  page: intIn(1, Number.MAX_SAFE_INTEGER),
  limit: intIn(1, 100),
  userId: optionalString,
  name: optionalString,
  sessionId: optionalString,
  fromTimestamp: dateTime,
  toTimestamp: dateTime,
  orderBy: optionalString.pipe(
    z
      .string()
      .optional()
      .refine(
        (v) => v === undefined || v === "timestamp.desc",
        "The emulator supports only orderBy=timestamp.desc (the default)",
      ),
  ),
  tags: z.preprocess(
    (v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]),
    z.array(z.string()).optional(),
  ),
  version: optionalString,
  release: optionalString,
  environment: z.preprocess(
    (v) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]),
    z.array(z.string()).optional(),
  ),
  fields: optionalString,
  filter: unsupportedFilter,
});
export type LegacyTracesQuery = z.infer<typeof legacyTracesQuerySchema>;
