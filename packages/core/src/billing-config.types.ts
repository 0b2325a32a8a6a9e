import type { TierName } from "./tier.constants";
import type { UsageCategory } from "./usage-category.constants";

/** `per` units of the category are worth `sparks` Sparks. Both are decimal strings (never floats). */
export interface CategoryRate {
  per: string;
  sparks: string;
  unit: string;
}

/** A month whose whole Sparks strictly exceed `over` gets `percent` off (a decimal string, e.g. "5"). */
export interface DiscountStep {
  over: number;
  percent: string;
}

/** What `/quota` answers for a tier while its usage counters cannot be trusted (SPEC §5). */
export type CountersFailPolicy = "fail_open" | "fail_closed";

/** `monthlyQuota: null` means unlimited. `priced: false` means usage is metered but billed at $0. */
export interface TierPolicy {
  monthlyQuota: number | null;
  priced: boolean;
  /** Absent: free fails closed, paid tiers fail open (see `countersFailPolicy`). */
  countersUnavailable?: CountersFailPolicy;
}

export interface BillingConfig {
  rates: Record<UsageCategory, CategoryRate>;
  discounts: DiscountStep[];
  tiers: Record<TierName, TierPolicy>;
  /** A single usage item worth more than this many Sparks is quarantined, not billed. */
  maxSparksPerItem: number;
  /** USD per Spark, a decimal string. */
  sparkRateUsd: string;
}
