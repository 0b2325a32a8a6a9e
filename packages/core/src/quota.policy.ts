import type { BillingConfig, CountersFailPolicy } from "./billing-config.types";
import { CoreError } from "./core.error";
import { decimalOf, divideToInteger } from "./decimal.math";
import type { TierName } from "./tier.constants";

/**
 * Why `/quota` or `/quota/reserve` refuses: the free tier's hard cap, a paid customer's (hard)
 * spend cap, a failed payment, or — for a tier that fails closed — counters that cannot be
 * trusted right now (Redis unreachable or being rebuilt from the ledger after losing its data).
 */
export type QuotaDenialReason =
  | "quota_exceeded"
  | "spend_cap_exceeded"
  | "payment_failed"
  | "counters_unavailable";

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
  /**
   * A paid customer's spend cap in whole Sparks (see `spendCapSparks`). A hard cap refuses at
   * 100% with `spend_cap_exceeded`; a soft one only reports the limit.
   */
  spendCap?: { sparks: number; soft: boolean } | null;
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
  const quotaLimit = rawLimit === null ? null : toWholeSparks(rawLimit, "quota");
  const cap = input.spendCap ? toWholeSparks(input.spendCap.sparks, "spendCap") : null;
  // The tighter of the tier's quota and the spend cap is the limit the customer sees.
  const capBinds = cap !== null && (quotaLimit === null || cap < quotaLimit);
  const limit = capBinds ? cap : quotaLimit;
  const remaining = limit === null ? null : limit > used ? limit - used : 0n;
  const decision: QuotaDecision = {
    allowed: true,
    tier: input.tier,
    limit: limit === null ? null : Number(limit),
    used: Number(used),
    remaining: remaining === null ? null : Number(remaining),
  };
  if (input.paused === "payment_failed") return { ...decision, allowed: false, reason: "payment_failed" };
  if (limit !== null && used >= limit) {
    if (!capBinds) return { ...decision, allowed: false, reason: "quota_exceeded" };
    if (!input.spendCap?.soft) return { ...decision, allowed: false, reason: "spend_cap_exceeded" };
  }
  return decision;
}

/** Defaults of SPEC §5: the free tier fails closed, paid tiers fail open. */
export function countersFailPolicy(config: BillingConfig, tier: TierName): CountersFailPolicy {
  return config.tiers[tier]?.countersUnavailable ?? (tier === "free" ? "fail_closed" : "fail_open");
}

/**
 * A spend cap in whole Sparks: Sparks as given (rounded down), USD divided by the Spark rate
 * (rounded down, so the cap never lets through more than the amount). Exact decimals only.
 */
export function spendCapSparks(
  cap: { unit: "usd" | "sparks"; amount: string },
  sparkRateUsd: string,
): number {
  const amount = decimalOf(cap.amount);
  const sparks =
    cap.unit === "sparks"
      ? divideToInteger(amount, decimalOf("1"), "floor")
      : divideToInteger(amount, decimalOf(sparkRateUsd), "floor");
  if (sparks < 0n || sparks > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CoreError("invalid_argument", `spend cap out of range: ${cap.amount} ${cap.unit}`);
  }
  return Number(sparks);
}

/** The percent thresholds (of `limit`) that `used` has reached: those with used × 100 ≥ t × limit. */
export function reachedThresholds(
  used: number,
  limit: number | null,
  thresholds: readonly number[],
): number[] {
  if (limit === null || limit <= 0) return [];
  return thresholds.filter((t) => BigInt(used) * 100n >= BigInt(t) * BigInt(limit));
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

/**
 * Why a spend-cap amount is refused (null: fine): a plain positive decimal of at most 15 whole
 * digits and 9 decimals, so it is exact in Postgres' numeric and in whole Sparks.
 */
export function spendCapAmountProblem(amount: string): string | null {
  if (!/^\d{1,15}(\.\d{1,9})?$/.test(amount)) return "must be a plain positive decimal (e.g. 250 or 99.50)";
  if (!/[1-9]/.test(amount)) return "must be greater than zero";
  return null;
}
