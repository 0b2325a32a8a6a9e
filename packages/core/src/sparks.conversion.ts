import type { BillingConfig, CategoryRate } from "./billing-config.types";
import { CoreError } from "./core.error";
import { type Decimal, divideToInteger, multiplyDecimal, parseDecimal } from "./decimal.math";
import { NANO_PER_SPARK } from "./sparks.money";
import type { UsageCategory } from "./usage-category.constants";

/** Parsed rate texts: every item of every trace converts through one of a handful of rates. */
const parsedRates = new Map<string, Decimal>();

function parseRatePart(category: UsageCategory, field: "per" | "sparks", text: string): Decimal {
  const cached = parsedRates.get(text);
  if (cached !== undefined) return cached;
  const parsed = parseDecimal(text);
  if (!parsed.ok) throw new CoreError("invalid_rate", `rates.${category}.${field}: ${parsed.err.message}`);
  // Keyed by the text itself (not the config object), so a changed config never reads a stale rate.
  if (parsedRates.size < 1_000) parsedRates.set(text, parsed.val);
  return parsed.val;
}

function rateFor(category: UsageCategory, config: BillingConfig): { per: Decimal; sparks: Decimal } {
  const rate: CategoryRate | undefined = config.rates[category];
  if (!rate) throw new CoreError("invalid_rate", `no rate configured for category ${category}`);
  const per = parseRatePart(category, "per", rate.per);
  const sparks = parseRatePart(category, "sparks", rate.sparks);
  if (per.coefficient <= 0n) throw new CoreError("invalid_rate", `rates.${category}.per must be positive`);
  if (sparks.coefficient < 0n)
    throw new CoreError("invalid_rate", `rates.${category}.sparks must not be negative`);
  return { per, sparks };
}

/**
 * Exact Sparks for `quantity` units of `category`, as nano-Sparks floored to a whole nano.
 * The ledger stores this per item, and the ledger's sum is the "exact total" of SPEC §1: the
 * floor loses under 1e-9 Spark per item, so it can only make the customer pay less, never more.
 */
export function toNanoSparks(
  category: UsageCategory,
  quantity: Decimal | string,
  config: BillingConfig,
): bigint {
  let q: Decimal;
  if (typeof quantity === "string") {
    const parsed = parseDecimal(quantity);
    if (!parsed.ok) throw new CoreError("invalid_quantity", `${category} quantity: ${parsed.err.message}`);
    q = parsed.val;
  } else {
    q = quantity;
  }
  if (q.coefficient < 0n)
    throw new CoreError("invalid_quantity", `${category} quantity must not be negative`);
  const { per, sparks } = rateFor(category, config);
  // nano = floor(quantity × sparks × 1e9 / per), all in exact integers.
  const numerator = multiplyDecimal(multiplyDecimal(q, sparks), { coefficient: NANO_PER_SPARK, exponent: 0 });
  return divideToInteger(numerator, per, "floor");
}
