import { type BillingConfig, DEFAULT_BILLING_CONFIG, type TierName, type UsageCategory } from "@sparks/core";
import { z } from "zod";

const decimalString = z
  .union([z.string(), z.number()])
  .transform((v) => (typeof v === "number" ? String(v) : v.trim()))
  .refine((v) => /^\d+(\.\d+)?$/.test(v), "must be a non-negative decimal number");

const positiveDecimal = decimalString.refine((v) => /[1-9]/.test(v), "must be greater than zero");

const rateSchema = z
  .object({ per: positiveDecimal, sparks: decimalString, unit: z.string().min(1) })
  .strict()
  .partial();

const tierSchema = z
  .object({
    monthly_quota: z.number().int().nonnegative().nullable(),
    priced: z.boolean(),
    // What /quota answers while the usage counters cannot be trusted (SPEC §5).
    counters_unavailable: z.enum(["fail_open", "fail_closed"]),
  })
  .strict()
  .partial();

/**
 * The JSON configuration file (snake_case, as operators write it). Every key is optional:
 * what is absent keeps the SPEC §1 default.
 */
export const billingConfigFileSchema = z
  .object({
    rates: z
      .object({ ai_tokens: rateSchema, compute: rateSchema, storage: rateSchema })
      .strict()
      .partial()
      .optional(),
    discounts: z
      .array(z.object({ over: z.number().int().nonnegative(), percent: decimalString }).strict())
      .refine((steps) => steps.every((s) => Number(s.percent) <= 100), "a discount percent cannot exceed 100")
      .refine(
        (steps) => new Set(steps.map((s) => s.over)).size === steps.length,
        "two discount steps share the same `over`",
      )
      .optional(),
    tiers: z
      .object({ free: tierSchema, standard: tierSchema, enterprise: tierSchema })
      .strict()
      .partial()
      .optional(),
    max_sparks_per_item: z.number().int().positive().optional(),
    spark_rate: decimalString.optional(),
  })
  .strict();

export type BillingConfigFile = z.infer<typeof billingConfigFileSchema>;

/** Merges a validated config file over the defaults. */
export function mergeBillingConfig(
  file: BillingConfigFile,
  base: BillingConfig = DEFAULT_BILLING_CONFIG,
): BillingConfig {
  const rates = { ...base.rates };
  for (const [category, rate] of Object.entries(file.rates ?? {}) as [
    UsageCategory,
    z.infer<typeof rateSchema>,
  ][]) {
    rates[category] = { ...rates[category], ...rate };
  }
  const tiers = { ...base.tiers };
  for (const [tier, policy] of Object.entries(file.tiers ?? {}) as [TierName, z.infer<typeof tierSchema>][]) {
    tiers[tier] = {
      monthlyQuota: policy.monthly_quota !== undefined ? policy.monthly_quota : tiers[tier].monthlyQuota,
      priced: policy.priced ?? tiers[tier].priced,
      ...(policy.counters_unavailable !== undefined || tiers[tier].countersUnavailable !== undefined
        ? { countersUnavailable: policy.counters_unavailable ?? tiers[tier].countersUnavailable }
        : {}),
    };
  }
  return {
    rates,
    tiers,
    discounts: file.discounts ? [...file.discounts].sort((a, b) => a.over - b.over) : base.discounts,
    maxSparksPerItem: file.max_sparks_per_item ?? base.maxSparksPerItem,
    sparkRateUsd: file.spark_rate ?? base.sparkRateUsd,
  };
}
