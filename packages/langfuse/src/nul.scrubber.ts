/**
 * Postgres text and jsonb cannot hold U+0000, so one NUL anywhere in a page would fail the
 * whole page's insert on every retry (and block the good traces on it). Records leave the
 * adapter with NUL replaced by U+FFFD: deterministic, so a re-read maps to the same ids and
 * the same ledger rows, and the value still bills or quarantines with its reason.
 */
const NUL = "\u0000";

export function scrubNul(text: string): string {
  return text.includes(NUL) ? text.replaceAll(NUL, "\uFFFD") : text;
}

export function scrubNulDeep(value: unknown): unknown {
  if (typeof value === "string") return scrubNul(value);
  if (Array.isArray(value)) return value.map(scrubNulDeep);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[scrubNul(k)] = scrubNulDeep(v);
    return out;
  }
  return value;
}

export function scrubNulRecord<T extends Record<string, unknown> | null>(value: T): T {
  return (value === null ? null : scrubNulDeep(value)) as T;
}
