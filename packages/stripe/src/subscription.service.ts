import { type TierName, USAGE_CATEGORIES, type UsageCategory } from "@sparks/core";
import type Stripe from "stripe";
import { SPARKS_CUSTOMER_METADATA_KEY } from "./customer.service";
import { priceLookupKey } from "./stripe.naming";
import { stripeCall } from "./stripe-call";

/** Subscription metadata naming the Sparks tier the prices belong to. */
export const TIER_METADATA_KEY = "sparks_tier";

export interface TierPrice {
  category: UsageCategory;
  priceId: string;
  lookupKey: string;
  /** The meter the price bills; a tier change swaps prices on the same meter. */
  meterId: string | null;
  productId: string;
}

export interface TierPrices {
  tier: TierName;
  prices: TierPrice[];
  /** Lookup keys with no active price: the catalog is not set up (`sparks stripe:setup`). */
  missing: string[];
}

export interface SubscriptionItemSummary {
  id: string;
  priceId: string;
  lookupKey: string | null;
  meterId: string | null;
}

export interface SubscriptionSummary {
  id: string;
  customerId: string;
  status: string;
  billingMode: string;
  items: SubscriptionItemSummary[];
}

export interface CreateTierSubscriptionInput {
  stripeCustomerId: string;
  sparksCustomerId: string;
  prices: TierPrices;
  idempotencyKey: string;
}

/**
 * Every subscription Sparks creates is anchored to the 1st of the month, 00:00:00 UTC, so a
 * Stripe invoice period is a calendar month (SPEC §3). Hour, minute and second are explicit:
 * omitted, Stripe takes the signup's own time of day. The first (partial) period is prorated.
 */
export const MONTH_START_ANCHOR = { day_of_month: 1, hour: 0, minute: 0, second: 0 } as const;

/** Whether a billing cycle anchor (Unix seconds) is the 1st of a month at 00:00:00 UTC. */
export function isMonthStartAnchor(anchorSec: number): boolean {
  const d = new Date(anchorSec * 1000);
  return d.getUTCDate() === 1 && d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
}

export interface SubscriptionAnchor {
  id: string;
  customerId: string;
  sparksCustomerId: string | null;
  status: string;
  billingMode: string;
  /** The anchor, ISO UTC. */
  anchor: string;
  aligned: boolean;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
}

/** Statuses after which a subscription bills nothing more: a new one may be created. */
const ENDED = new Set(["canceled", "incomplete_expired"]);

function meterOf(price: Stripe.Price): string | null {
  return price.recurring?.meter ?? null;
}

function summarize(sub: Stripe.Subscription): SubscriptionSummary {
  return {
    id: sub.id,
    customerId: typeof sub.customer === "string" ? sub.customer : sub.customer.id,
    status: sub.status,
    billingMode: sub.billing_mode?.type ?? "classic",
    items: sub.items.data.map((item) => ({
      id: item.id,
      priceId: item.price.id,
      lookupKey: item.price.lookup_key ?? null,
      meterId: meterOf(item.price),
    })),
  };
}

/**
 * The Stripe side of tiers (SPEC §5): a tier is a set of metered prices on the same meters,
 * found by lookup key; signing up subscribes to the free tier's prices, a tier change swaps
 * each item's price for the new tier's price on the same meter. Subscriptions are created with
 * `billing_mode[type]=flexible`, so usage recorded before a mid-cycle swap is still invoiced.
 */
export class StripeSubscriptionService {
  constructor(
    private readonly stripe: Stripe,
    private readonly meterPrefix: string,
  ) {}

  async tierPrices(tier: TierName): Promise<TierPrices> {
    const wanted = USAGE_CATEGORIES.map((category) => ({
      category,
      lookupKey: priceLookupKey(this.meterPrefix, category, tier),
    }));
    const found = new Map<string, Stripe.Price>();
    await stripeCall("prices.list", async () => {
      for await (const price of this.stripe.prices.list({
        lookup_keys: wanted.map((w) => w.lookupKey),
        active: true,
        limit: 100,
      })) {
        if (price.lookup_key !== null) found.set(price.lookup_key, price);
      }
    });
    const prices: TierPrice[] = [];
    const missing: string[] = [];
    for (const w of wanted) {
      const price = found.get(w.lookupKey);
      if (price === undefined) missing.push(w.lookupKey);
      else
        prices.push({
          category: w.category,
          lookupKey: w.lookupKey,
          priceId: price.id,
          meterId: meterOf(price),
          productId: typeof price.product === "string" ? price.product : price.product.id,
        });
    }
    return { tier, prices, missing };
  }

  async retrieve(subscriptionId: string): Promise<SubscriptionSummary> {
    const sub = await stripeCall("subscriptions.retrieve", () =>
      this.stripe.subscriptions.retrieve(subscriptionId),
    );
    return summarize(sub);
  }

  /** The customer's newest subscription that has not ended, or null. */
  async findLive(stripeCustomerId: string): Promise<SubscriptionSummary | null> {
    const list = await stripeCall("subscriptions.list", () =>
      this.stripe.subscriptions.list({ customer: stripeCustomerId, status: "all", limit: 20 }),
    );
    const live = list.data
      .filter((s) => !ENDED.has(s.status))
      .sort((a, b) => a.created - b.created)
      .at(0);
    return live === undefined ? null : summarize(live);
  }

  async create(input: CreateTierSubscriptionInput): Promise<SubscriptionSummary> {
    const sub = await stripeCall("subscriptions.create", () =>
      this.stripe.subscriptions.create(
        {
          customer: input.stripeCustomerId,
          items: input.prices.prices.map((p) => ({ price: p.priceId })),
          billing_mode: { type: "flexible" },
          billing_cycle_anchor_config: { ...MONTH_START_ANCHOR },
          proration_behavior: "create_prorations",
          metadata: {
            [SPARKS_CUSTOMER_METADATA_KEY]: input.sparksCustomerId,
            [TIER_METADATA_KEY]: input.prices.tier,
          },
        },
        { idempotencyKey: input.idempotencyKey },
      ),
    );
    return summarize(sub);
  }

  /** Every subscription that still bills, with its anchor and whether it is the 1st 00:00 UTC. */
  async anchors(): Promise<SubscriptionAnchor[]> {
    const out: SubscriptionAnchor[] = [];
    await stripeCall("subscriptions.list", async () => {
      for await (const sub of this.stripe.subscriptions.list({ status: "all", limit: 100 })) {
        if (ENDED.has(sub.status)) continue;
        const item = sub.items.data[0];
        const iso = (s: number | undefined) => (s === undefined ? null : new Date(s * 1000).toISOString());
        out.push({
          id: sub.id,
          customerId: typeof sub.customer === "string" ? sub.customer : sub.customer.id,
          sparksCustomerId: sub.metadata[SPARKS_CUSTOMER_METADATA_KEY] ?? null,
          status: sub.status,
          billingMode: sub.billing_mode?.type ?? "classic",
          anchor: new Date(sub.billing_cycle_anchor * 1000).toISOString(),
          aligned: isMonthStartAnchor(sub.billing_cycle_anchor),
          currentPeriodStart: iso(item?.current_period_start),
          currentPeriodEnd: iso(item?.current_period_end),
        });
      }
    });
    return out;
  }

  /**
   * Realigns a subscription's cycle the only way Stripe allows on an existing subscription:
   * `billing_cycle_anchor[type]=now`. Stripe ends the current period at this moment, invoices
   * it (usage so far included; prorations created) and anchors the new cycle at the moment of
   * the call, so this is a realignment to the 1st only when it runs at 00:00 UTC on the 1st.
   */
  async resetAnchorNow(subscriptionId: string, idempotencyKey: string): Promise<SubscriptionAnchor> {
    await stripeCall("subscriptions.update", () =>
      this.stripe.subscriptions.update(
        subscriptionId,
        { billing_cycle_anchor: { type: "now" }, proration_behavior: "create_prorations" },
        { idempotencyKey },
      ),
    );
    const found = (await this.anchors()).find((a) => a.id === subscriptionId);
    if (found === undefined) throw new Error(`subscription ${subscriptionId} no longer bills`);
    return found;
  }

  /**
   * Swaps every item to the target tier's price on the same meter (adding an item for a meter
   * the subscription lacks), with proration requested. Items on other meters are left alone.
   * A classic subscription is migrated to flexible first.
   */
  async swapTier(
    subscription: SubscriptionSummary,
    target: TierPrices,
    idempotencyKey: string,
  ): Promise<SubscriptionSummary> {
    if (subscription.billingMode !== "flexible") {
      // A classic subscription (created before Sparks set flexible, or by hand) drops usage
      // recorded before a mid-period swap: migrate it first, so each segment bills its own.
      await stripeCall("subscriptions.migrate", () =>
        this.stripe.subscriptions.migrate(
          subscription.id,
          { billing_mode: { type: "flexible" } },
          { idempotencyKey: `${idempotencyKey}-flexible` },
        ),
      );
    }
    const items: Stripe.SubscriptionUpdateParams.Item[] = [];
    for (const price of target.prices) {
      const item = subscription.items.find(
        (it) =>
          (price.meterId !== null && it.meterId === price.meterId) ||
          it.lookupKey?.startsWith(`${this.meterPrefix}_${price.category}_`) === true,
      );
      if (item === undefined) items.push({ price: price.priceId });
      else if (item.priceId !== price.priceId) items.push({ id: item.id, price: price.priceId });
    }
    const sub = await stripeCall("subscriptions.update", () =>
      this.stripe.subscriptions.update(
        subscription.id,
        {
          items,
          proration_behavior: "create_prorations",
          metadata: { [TIER_METADATA_KEY]: target.tier },
        },
        { idempotencyKey },
      ),
    );
    return summarize(sub);
  }
}
