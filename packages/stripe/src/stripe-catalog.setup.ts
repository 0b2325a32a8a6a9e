import {
  compareDecimal,
  type Decimal,
  decimalOf,
  formatDecimal,
  multiplyDecimal,
  parseDecimal,
  type TierName,
  USAGE_CATEGORIES,
  type UsageCategory,
} from "@sparks/core";
import Stripe from "stripe";
import { meterEventName, priceLookupKey } from "./stripe.naming";
import { stripeCall } from "./stripe-call";

/** Metadata keys that mark a product as ours, so a re-run finds it instead of duplicating it. */
export const CATEGORY_METADATA_KEY = "sparks_category";
export const PREFIX_METADATA_KEY = "sparks_meter_prefix";

/** Payload keys of every Sparks meter event (SPEC §3). */
export const CUSTOMER_PAYLOAD_KEY = "stripe_customer_id";
export const VALUE_PAYLOAD_KEY = "value";

/** Stripe accepts at most 12 fraction digits in `unit_amount_decimal`. */
const MAX_PRICE_FRACTION_DIGITS = 12;
/** Stripe refuses more lookup keys than this in one price list call. */
const LOOKUP_KEYS_PER_CALL = 10;

const CATEGORY_LABELS: Record<UsageCategory, string> = {
  ai_tokens: "AI tokens",
  compute: "Compute",
  storage: "Storage",
};

export interface CatalogSetupOptions {
  prefix: string;
  /** USD per Spark, a decimal string (`SPARK_RATE`, e.g. "0.001"). */
  sparkRateUsd: string;
  tiers: readonly TierName[];
  /** Whether a tier is charged (SPEC §5: free is metered at $0). Default: free false, others true. */
  tierPriced?: Partial<Record<TierName, boolean>>;
  categories?: readonly UsageCategory[];
}

export type CatalogEntry =
  | { kind: "product"; category: UsageCategory; id: string; name: string }
  | { kind: "meter"; category: UsageCategory; id: string; eventName: string }
  | {
      kind: "price";
      category: UsageCategory;
      tier: TierName;
      id: string;
      lookupKey: string;
      unitAmountDecimal: string;
    };

export interface CatalogChange {
  entry: CatalogEntry;
  /** Why an existing object was changed (a meter reactivated, a price replaced). */
  reason: string;
}

export interface CatalogSetupResult {
  created: CatalogEntry[];
  found: CatalogEntry[];
  /** Existing objects brought back in line: reactivated meters, prices replaced after a rate change. */
  updated: CatalogChange[];
  /** Mismatches setup cannot fix (a meter's aggregation or payload keys cannot be changed in Stripe). */
  warnings: string[];
}

/** USD per Spark → Stripe's `unit_amount_decimal`, which is in cents: 0.001 USD → "0.1". */
export function centsPerSpark(sparkRateUsd: string): string {
  const parsed = parseDecimal(sparkRateUsd);
  if (!parsed.ok) throw new RangeError(`sparkRateUsd "${sparkRateUsd}" is not a decimal`);
  const cents = multiplyDecimal(parsed.val, decimalOf(100));
  if (cents.coefficient < 0n) throw new RangeError(`sparkRateUsd "${sparkRateUsd}" is negative`);
  const text = formatDecimal(cents);
  const fraction = text.split(".")[1] ?? "";
  if (fraction.length > MAX_PRICE_FRACTION_DIGITS) {
    throw new RangeError(
      `a Spark costs ${text} cents: Stripe allows at most ${MAX_PRICE_FRACTION_DIGITS} decimals`,
    );
  }
  return text;
}

function sameDecimal(a: unknown, b: Decimal): boolean {
  if (a === null || a === undefined) return false;
  const parsed = parseDecimal(String(a));
  return parsed.ok && compareDecimal(parsed.val, b) === 0;
}

/**
 * Creates what is missing of the Sparks catalog — per category one product, one meter and one
 * metered price per tier — and finds what exists, so running it again creates nothing.
 * Products are found by metadata, meters by event name, prices by lookup key.
 */
export async function setupStripeCatalog(
  stripe: Stripe,
  options: CatalogSetupOptions,
): Promise<CatalogSetupResult> {
  const result: CatalogSetupResult = { created: [], found: [], updated: [], warnings: [] };
  const categories = options.categories ?? USAGE_CATEGORIES;
  const paidCents = centsPerSpark(options.sparkRateUsd);

  const products = await stripeCall("products.list", async () => {
    const list: Stripe.Product[] = [];
    for await (const p of stripe.products.list({ active: true, limit: 100 })) list.push(p);
    return list;
  });
  const meters = await stripeCall("billing.meters.list", async () => {
    const list: Stripe.Billing.Meter[] = [];
    for await (const m of stripe.billing.meters.list({ limit: 100 })) list.push(m);
    return list;
  });
  const lookupKeys = categories.flatMap((c) =>
    options.tiers.map((t) => priceLookupKey(options.prefix, c, t)),
  );
  const prices = new Map<string, Stripe.Price>();
  for (let i = 0; i < lookupKeys.length; i += LOOKUP_KEYS_PER_CALL) {
    const keys = lookupKeys.slice(i, i + LOOKUP_KEYS_PER_CALL);
    await stripeCall("prices.list", async () => {
      for await (const p of stripe.prices.list({ lookup_keys: keys, active: true, limit: 100 })) {
        if (p.lookup_key !== null) prices.set(p.lookup_key, p);
      }
    });
  }

  for (const category of categories) {
    const productId = await ensureProduct(stripe, options.prefix, category, products, result);
    const meterId = await ensureMeter(stripe, options.prefix, category, meters, result);
    for (const tier of options.tiers) {
      const priced = options.tierPriced?.[tier] ?? tier !== "free";
      await ensurePrice(
        stripe,
        { prefix: options.prefix, category, tier, productId, meterId },
        priced ? paidCents : "0",
        prices,
        result,
      );
    }
  }
  return result;
}

async function ensureProduct(
  stripe: Stripe,
  prefix: string,
  category: UsageCategory,
  products: Stripe.Product[],
  result: CatalogSetupResult,
): Promise<string> {
  const existing = products.find(
    (p) => p.metadata[CATEGORY_METADATA_KEY] === category && p.metadata[PREFIX_METADATA_KEY] === prefix,
  );
  if (existing !== undefined) {
    result.found.push({ kind: "product", category, id: existing.id, name: existing.name });
    return existing.id;
  }
  const name = `Sparks: ${CATEGORY_LABELS[category]}`;
  const created = await stripeCall("products.create", () =>
    stripe.products.create({
      name,
      unit_label: "Spark",
      metadata: { [CATEGORY_METADATA_KEY]: category, [PREFIX_METADATA_KEY]: prefix },
    }),
  );
  result.created.push({ kind: "product", category, id: created.id, name });
  return created.id;
}

async function ensureMeter(
  stripe: Stripe,
  prefix: string,
  category: UsageCategory,
  meters: Stripe.Billing.Meter[],
  result: CatalogSetupResult,
): Promise<string> {
  const eventName = meterEventName(prefix, category);
  const same = meters.filter((m) => m.event_name === eventName);
  const active = same.find((m) => m.status === "active");
  const existing = active ?? same[0];
  if (existing !== undefined) {
    const entry: CatalogEntry = { kind: "meter", category, id: existing.id, eventName };
    checkMeter(existing, result);
    if (active === undefined) {
      // An inactive meter refuses events; reactivating keeps its id, so existing prices still point at it.
      await stripeCall("billing.meters.reactivate", () => stripe.billing.meters.reactivate(existing.id));
      result.updated.push({ entry, reason: "reactivated (it was inactive)" });
    } else {
      result.found.push(entry);
    }
    return existing.id;
  }
  const created = await stripeCall("billing.meters.create", () =>
    stripe.billing.meters.create({
      display_name: `Sparks: ${CATEGORY_LABELS[category]}`,
      event_name: eventName,
      default_aggregation: { formula: "sum" },
      customer_mapping: { type: "by_id", event_payload_key: CUSTOMER_PAYLOAD_KEY },
      value_settings: { event_payload_key: VALUE_PAYLOAD_KEY },
    }),
  );
  result.created.push({ kind: "meter", category, id: created.id, eventName });
  return created.id;
}

/** Meters are immutable but for their display name: a wrong one can only be reported. */
function checkMeter(meter: Stripe.Billing.Meter, result: CatalogSetupResult): void {
  const problems: string[] = [];
  if (meter.default_aggregation.formula !== "sum")
    problems.push(`aggregation ${meter.default_aggregation.formula}, expected sum`);
  if (meter.customer_mapping.event_payload_key !== CUSTOMER_PAYLOAD_KEY) {
    problems.push(
      `customer key ${meter.customer_mapping.event_payload_key}, expected ${CUSTOMER_PAYLOAD_KEY}`,
    );
  }
  if (meter.value_settings.event_payload_key !== VALUE_PAYLOAD_KEY) {
    problems.push(`value key ${meter.value_settings.event_payload_key}, expected ${VALUE_PAYLOAD_KEY}`);
  }
  if (problems.length > 0) {
    result.warnings.push(
      `meter ${meter.id} (${meter.event_name}) has ${problems.join("; ")}: usage would be billed wrongly`,
    );
  }
}

async function ensurePrice(
  stripe: Stripe,
  at: { prefix: string; category: UsageCategory; tier: TierName; productId: string; meterId: string },
  unitAmountDecimal: string,
  prices: Map<string, Stripe.Price>,
  result: CatalogSetupResult,
): Promise<void> {
  const lookupKey = priceLookupKey(at.prefix, at.category, at.tier);
  const existing = prices.get(lookupKey);
  const mismatch = existing === undefined ? null : priceMismatch(existing, at.meterId, unitAmountDecimal);
  if (existing !== undefined && mismatch === null) {
    result.found.push({
      kind: "price",
      category: at.category,
      tier: at.tier,
      id: existing.id,
      lookupKey,
      unitAmountDecimal,
    });
    return;
  }
  const created = await stripeCall("prices.create", () =>
    stripe.prices.create({
      product: at.productId,
      currency: "usd",
      unit_amount_decimal: Stripe.Decimal.from(unitAmountDecimal),
      recurring: { interval: "month", usage_type: "metered", meter: at.meterId },
      lookup_key: lookupKey,
      // Moves the key off an older price (a rate change, an inactive price) instead of failing.
      transfer_lookup_key: true,
      nickname: `${at.category} ${at.tier}`,
      metadata: { [CATEGORY_METADATA_KEY]: at.category, sparks_tier: at.tier },
    }),
  );
  const entry: CatalogEntry = {
    kind: "price",
    category: at.category,
    tier: at.tier,
    id: created.id,
    lookupKey,
    unitAmountDecimal,
  };
  if (existing === undefined) result.created.push(entry);
  else
    result.updated.push({
      entry,
      reason: `replaces ${existing.id} (${mismatch}); existing subscriptions keep the old price`,
    });
}

function priceMismatch(price: Stripe.Price, meterId: string, unitAmountDecimal: string): string | null {
  if (price.recurring?.usage_type !== "metered") return "not metered";
  if (price.recurring.meter !== meterId)
    return `meter ${price.recurring.meter ?? "none"}, expected ${meterId}`;
  if (price.currency !== "usd") return `currency ${price.currency}, expected usd`;
  if (!sameDecimal(price.unit_amount_decimal, decimalOf(unitAmountDecimal))) {
    return `unit_amount_decimal ${String(price.unit_amount_decimal)}, expected ${unitAmountDecimal}`;
  }
  return null;
}
