import Stripe from "stripe";
import { SPARKS_CUSTOMER_METADATA_KEY } from "./customer.service";
import { customerRateLookupKey } from "./stripe.naming";
import { stripeCall } from "./stripe-call";
import { CATEGORY_METADATA_KEY, centsPerSpark, PREFIX_METADATA_KEY } from "./stripe-catalog.setup";
import type { TierPrice, TierPrices } from "./subscription.service";

/** Price metadata naming the negotiated rate (USD per Spark) a customer's own price bills. */
export const RATE_METADATA_KEY = "sparks_rate_usd";

/**
 * A negotiated enterprise rate as Stripe prices of that customer (SPEC §3): per category a
 * metered price on the same product and meter as the catalog's enterprise price, at the
 * customer's rate, found by lookup key or created (idempotency key = lookup key). Swapping
 * them into the subscription (`swapTier`) makes Stripe's invoice bill the rate the report uses.
 */
export async function ensureCustomerRatePrices(
  stripe: Stripe,
  prefix: string,
  sparksCustomerId: string,
  usdPerSpark: string,
  enterprise: TierPrices,
): Promise<TierPrices> {
  const cents = centsPerSpark(usdPerSpark);
  const wanted = enterprise.prices.map((p) => ({
    template: p,
    lookupKey: customerRateLookupKey(prefix, p.category, sparksCustomerId, usdPerSpark),
  }));
  const found = new Map<string, Stripe.Price>();
  await stripeCall("prices.list", async () => {
    for await (const price of stripe.prices.list({
      lookup_keys: wanted.map((w) => w.lookupKey),
      active: true,
      limit: 100,
    })) {
      if (price.lookup_key !== null) found.set(price.lookup_key, price);
    }
  });
  const prices: TierPrice[] = [];
  for (const { template, lookupKey } of wanted) {
    const price =
      found.get(lookupKey) ??
      (await stripeCall("prices.create", () =>
        stripe.prices.create(
          {
            currency: "usd",
            product: template.productId,
            unit_amount_decimal: Stripe.Decimal.from(cents),
            recurring: {
              interval: "month",
              usage_type: "metered",
              ...(template.meterId === null ? {} : { meter: template.meterId }),
            },
            lookup_key: lookupKey,
            nickname: `${template.category} at ${usdPerSpark} USD/Spark (${sparksCustomerId})`,
            metadata: {
              [SPARKS_CUSTOMER_METADATA_KEY]: sparksCustomerId,
              [CATEGORY_METADATA_KEY]: template.category,
              [PREFIX_METADATA_KEY]: prefix,
              [RATE_METADATA_KEY]: usdPerSpark,
            },
          },
          { idempotencyKey: `sparks-rate-price-${lookupKey}` },
        ),
      ));
    prices.push({
      category: template.category,
      lookupKey,
      priceId: price.id,
      meterId: price.recurring?.meter ?? template.meterId,
      productId: template.productId,
    });
  }
  return { tier: "enterprise", prices, missing: [] };
}
