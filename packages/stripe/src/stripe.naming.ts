import { createHash } from "node:crypto";
import type { TierName, UsageCategory } from "@sparks/core";

/** Stripe refuses meter-event identifiers longer than this. */
export const MAX_IDENTIFIER_LENGTH = 100;

const SAFE_TRACE_ID = /^[A-Za-z0-9_-]{1,80}$/;
/**
 * Raw trace ids that could be mistaken for another identifier's shape — a correction suffix
 * (`abc-r1` vs trace `abc` revision 1) or our own hashed form (`h` + 40 hex) — are hashed too,
 * so that two different (trace, revision) pairs can never share an identifier.
 */
const AMBIGUOUS_TRACE_ID = /(-r\d+$)|(^h[0-9a-f]{40}$)/;

function sha256Hex40(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 40);
}

/** Stripe meter `event_name` of a category: `${prefix}_${category}`. */
export function meterEventName(prefix: string, category: UsageCategory): string {
  return `${prefix}_${category}`;
}

/** Lookup key of the metered price of a category in a tier: `${prefix}_${category}_${tier}`. */
export function priceLookupKey(prefix: string, category: UsageCategory, tier: TierName): string {
  return `${prefix}_${category}_${tier}`;
}

/**
 * A customer's own price at a negotiated rate: one per customer, category and rate, so setting
 * the same rate again finds it (idempotent) and a new rate gets a new price (Stripe prices are
 * immutable). `0.0008` → `sparks_ai_tokens_cust_<id>_usd0p0008`.
 */
export function customerRateLookupKey(
  prefix: string,
  category: UsageCategory,
  sparksCustomerId: string,
  usdPerSpark: string,
): string {
  return `${prefix}_${category}_cust_${sparksCustomerId}_usd${usdPerSpark.replace(".", "p")}`;
}

export interface MeterEventIdentifierInput {
  traceId: string;
  category: UsageCategory;
  /** 0 (or absent) is the original item; n > 0 is the n-th correction and gets `-r<n>`. */
  revision?: number;
}

/**
 * The identifier of one usage item's meter event, derived only from (trace, category,
 * revision) so a retry — in any process, after any crash — sends the same identifier.
 */
export function meterEventIdentifier({ traceId, category, revision = 0 }: MeterEventIdentifierInput): string {
  if (!Number.isSafeInteger(revision) || revision < 0) {
    throw new RangeError(`revision must be a non-negative integer, got ${revision}`);
  }
  const tracePart =
    SAFE_TRACE_ID.test(traceId) && !AMBIGUOUS_TRACE_ID.test(traceId) ? traceId : `h${sha256Hex40(traceId)}`;
  const id = `${category}-${tracePart}${revision > 0 ? `-r${revision}` : ""}`;
  // Unreachable with the known categories (≤ 9 chars + 80 + "-r" + 15 digits), kept as a guard.
  if (id.length > MAX_IDENTIFIER_LENGTH)
    throw new RangeError(`identifier longer than ${MAX_IDENTIFIER_LENGTH}: ${id}`);
  return id;
}

/**
 * The identifier of an aggregate meter event: the same set of usage items always gives the
 * same identifier, whatever order they are listed in.
 */
export function aggregateIdentifier(
  category: UsageCategory,
  itemIds: ReadonlyArray<string | number | bigint>,
): string {
  if (itemIds.length === 0) throw new RangeError("an aggregate needs at least one usage item");
  const sorted = [...new Set(itemIds.map(String))].sort();
  return `agg-${category}-${sha256Hex40(sorted.join(","))}`;
}
