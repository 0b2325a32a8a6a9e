import type { BillingConfig } from "./billing-config.types";

/** The numbers of SPEC §1 and §5. Frozen so that no caller can mutate the shared defaults. */
export const DEFAULT_BILLING_CONFIG: BillingConfig = Object.freeze({
  rates: Object.freeze({
    // 1,000 tokens = 100 Sparks
    ai_tokens: Object.freeze({ per: "1000", sparks: "100", unit: "tokens" }),
    // 1 minute = 60,000 ms = 50 Sparks
    compute: Object.freeze({ per: "60000", sparks: "50", unit: "ms" }),
    // 1 GB-month = 730 GB-hours = 500 Sparks
    storage: Object.freeze({ per: "730", sparks: "500", unit: "GB-hours" }),
  }),
  discounts: Object.freeze([Object.freeze({ over: 10_000, percent: "5" })]) as BillingConfig["discounts"],
  tiers: Object.freeze({
    free: Object.freeze({ monthlyQuota: 10_000, priced: false }),
    standard: Object.freeze({ monthlyQuota: null, priced: true }),
    enterprise: Object.freeze({ monthlyQuota: null, priced: true }),
  }),
  maxSparksPerItem: 1_000_000,
  sparkRateUsd: "0.001",
}) as BillingConfig;
