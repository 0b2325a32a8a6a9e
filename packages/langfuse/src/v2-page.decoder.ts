import { pickBillingMetadata } from "./billing-metadata";
import { costToDecimal } from "./cost.decimal";
import { LangfuseError } from "./langfuse.error";
import type { ObservationRecord } from "./langfuse.types";
import { scrubNul, scrubNulRecord } from "./nul.scrubber";

/** One decoded v2 page: the billable records and the next page's cursor (none on the last page). */
export interface V2Page {
  records: ObservationRecord[];
  cursor: string | undefined;
}

type Row = Record<string, unknown>;

function isObject(value: unknown): value is Row {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

class ShapeError extends Error {}

function fail(path: string, message: string): never {
  throw new ShapeError(`${path}: ${message}`);
}

function optionalString(row: Row, key: string, path: string): string | null {
  const value = row[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") fail(`${path}.${key}`, "expected a string or null");
  return value;
}

/** True when any string (key or value) inside holds U+0000; no copy is made when none does. */
function hasNul(value: unknown): boolean {
  if (typeof value === "string") return value.includes("\u0000");
  if (Array.isArray(value)) return value.some(hasNul);
  if (isObject(value)) {
    for (const key in value) if (key.includes("\u0000") || hasNul(value[key])) return true;
  }
  return false;
}

/** Copies only what needs scrubbing (`scrubNulRecord` copies everything). */
function scrubbed(value: Record<string, unknown> | null): Record<string, unknown> | null {
  return value !== null && hasNul(value) ? scrubNulRecord(value) : value;
}

/**
 * One v2 row checked and mapped in a single pass: the fields Sparks reads, checked at the boundary
 * (unknown fields ignored, usage/metadata values left raw for core's validation). A zod parse that
 * copied every row, then a mapping and a NUL scrub that copied it twice more, cost more CPU per
 * observation than the JSON parse of the response. Null for a row without a trace (not billable).
 */
function decodeRow(row: unknown, path: string): ObservationRecord | null {
  if (!isObject(row)) fail(path, "expected an object");
  const id = row.id;
  if (typeof id !== "string" || id.length === 0) fail(`${path}.id`, "expected a non-empty string");
  const traceId = row.traceId;
  if (traceId !== null && typeof traceId !== "string") fail(`${path}.traceId`, "expected a string or null");
  const type = row.type;
  if (typeof type !== "string") fail(`${path}.type`, "expected a string");
  const startTime = row.startTime;
  if (typeof startTime !== "string") fail(`${path}.startTime`, "expected a string");
  const startMs = Date.parse(startTime);
  if (Number.isNaN(startMs)) fail(`${path}.startTime`, "not an ISO date-time");
  const parent = optionalString(row, "parentObservationId", path);
  const isRootObservation = row.isRootObservation;
  if (isRootObservation !== undefined && typeof isRootObservation !== "boolean")
    fail(`${path}.isRootObservation`, "expected a boolean");
  const userId = optionalString(row, "userId", path);
  const totalCost = row.totalCost;
  if (totalCost !== undefined && totalCost !== null && typeof totalCost !== "number")
    fail(`${path}.totalCost`, "expected a number or null");
  // Observations without a trace cannot be billed.
  if (traceId === null || traceId === "") return null;
  const usage = row.usageDetails;
  return {
    observationId: scrubNul(id),
    traceId: scrubNul(traceId),
    type: scrubNul(type),
    startTime: new Date(startMs),
    userId: userId === null ? null : scrubNul(userId),
    isRoot: isRootObservation ?? parent === null,
    // Values untouched (core validates them); the response object is ours alone, so no copy.
    usageDetails: scrubbed(isObject(usage) ? usage : null),
    metadata: scrubbed(pickBillingMetadata(row.metadata)),
    costUsd: costToDecimal(totalCost),
  };
}

/** A `GET /api/public/v2/observations` body → records and cursor; a wrong shape is not retryable. */
export function decodeV2Page(body: unknown, endpoint: string): V2Page {
  try {
    if (!isObject(body)) fail("(root)", "expected an object");
    const data = body.data;
    if (!Array.isArray(data)) fail("data", "expected an array");
    const meta = body.meta;
    let cursor: string | undefined;
    if (meta !== undefined) {
      if (!isObject(meta)) fail("meta", "expected an object");
      const next = meta.cursor;
      if (next !== undefined && next !== null && typeof next !== "string")
        fail("meta.cursor", "expected a string or null");
      cursor = next ?? undefined;
    }
    const records: ObservationRecord[] = [];
    for (let i = 0; i < data.length; i++) {
      const record = decodeRow(data[i], `data.${i}`);
      if (record !== null) records.push(record);
    }
    return { records, cursor: cursor === "" ? undefined : cursor };
  } catch (error) {
    if (!(error instanceof ShapeError)) throw error;
    throw new LangfuseError(`Langfuse ${endpoint} returned an unexpected response (${error.message})`, {
      retryable: false,
    });
  }
}
