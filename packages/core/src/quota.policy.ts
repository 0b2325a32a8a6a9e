import type { BillingConfig } from "./billing-config.types";
import { CoreError } from "./core.error";
import type { TierName } from "./tier.constants";

export type QuotaDenialReason = "quota_exceeded" | "payment_failed";

export interface QuotaInput {
  tier: TierName;
  /** Whole Sparks used this month (a safe non-negative integer, or a bigint). */
  usedSparks: bigint | number;
  /**
   * A per-customer quota (enterprise contracts). `undefined` = use the tier's quota,
   * `null` = unlimited, a number = that many Sparks per month.
   */
  customQuota?: number | null;
  /** Set while a failed payment pauses usage (SPEC §5). */
  paused?: "payment_failed" | null;
  config: BillingConfig;
}

/** The `/quota` answer of SPEC §4 (plus `reason` when not allowed). */
export interface QuotaDecision {
  allowed: boolean;
  tier: TierName;
  limit: number | null;
  used: number;
  remaining: number | null;
  reason?: QuotaDenialReason;
}

function toWholeSparks(value: bigint | number, field: string): bigint {
  if (typeof value === "bigint") {
    if (value < 0n) throw new CoreError("invalid_argument", `${field} must not be negative`);
    return value;
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CoreError("invalid_argument", `${field} must be a non-negative whole number, got ${value}`);
  }
  return BigInt(value);
}

/**
 * "Capped at N Sparks/month": a run is allowed while used < limit, so at exactly the limit the
 * next run is refused. A payment pause refuses regardless of quota.
 */
export function evaluateQuota(input: QuotaInput): QuotaDecision {
  const policy = input.config.tiers[input.tier];
  if (!policy) throw new CoreError("invalid_argument", `unknown tier ${String(input.tier)}`);
  const used = toWholeSparks(input.usedSparks, "usedSparks");
  const rawLimit = input.customQuota === undefined ? policy.monthlyQuota : input.customQuota;
  const limit = rawLimit === null ? null : toWholeSparks(rawLimit, "quota");
  const remaining = limit === null ? null : limit > used ? limit - used : 0n;
  const decision: QuotaDecision = {
    allowed: true,
    tier: input.tier,
    limit: limit === null ? null : Number(limit),
    used: Number(used),
    remaining: remaining === null ? null : Number(remaining),
  };
  if (input.paused === "payment_failed") return { ...decision, allowed: false, reason: "payment_failed" };
  if (limit !== null && used >= limit) return { ...decision, allowed: false, reason: "quota_exceeded" };
  return decision;
}

/**
 * Thresholds (percent of `limit`) that usage crossed going from `before` to `after`: those with
 * before < t% ≤ after. Each threshold is crossed at most once per month as usage only grows,
 * so alerting on the result sends each 80%/100% alert once (the caller also records it).
 */
export function crossedThresholds(
  before: bigint | number,
  after: bigint | number,
  limit: bigint | number | null,
  thresholds: readonly number[] = [80, 100],
): number[] {
  if (limit === null) return [];
  const b = toWholeSparks(before, "before");
  const a = toWholeSparks(after, "after");
  const l = toWholeSparks(limit, "limit");
  if (l === 0n) return [];
  return thresholds.filter((t) => {
    if (!Number.isSafeInteger(t) || t <= 0) {
      throw new CoreError("invalid_argument", `thresholds must be positive whole percents, got ${t}`);
    }
    // Compare used × 100 with t × limit so no division (and no float) is involved.
    const mark = BigInt(t) * l;
    return b * 100n < mark && mark <= a * 100n;
  });
}
