/**
 * Raw rows differ per driver: postgres-js returns bigint/numeric as strings, PGlite may return
 * numbers or bigints. These helpers normalise the few column kinds the repositories read.
 */
export function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (typeof value === "string") return Number(value);
  return Number.NaN;
}

export function toNullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

export function toBigInt(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number") return BigInt(Math.trunc(value));
  if (typeof value === "string") return BigInt(value);
  return 0n;
}

export function toDate(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

export function toNullableString(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** A JSON array of ids, passed as one jsonb parameter (works the same on both drivers). */
export function jsonParam(value: unknown): string {
  return JSON.stringify(value);
}
