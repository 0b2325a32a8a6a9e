import type { TierName } from "@sparks/core";
import { CustomerRepository, type Database, TierHistoryRepository } from "@sparks/db";
import { ensureCustomerRatePrices, idempotencyKey, type SubscriptionSummary } from "@sparks/stripe";
import { BadRequestError, ConflictError, NotFoundError } from "../errors/http-errors";
import { type BillingStripe, requireAllPrices, requireBillingStripe, stripeFailure } from "./billing-stripe";

export interface ChangeTierInput {
  customerId: string;
  tier: TierName;
  /** Enterprise only, admin only (the route checks who): null = unlimited, undefined = unchanged. */
  customQuota?: number | null;
}

export interface ChangeTierResult {
  customerId: string;
  tier: TierName;
  previousTier: TierName;
  subscription: SubscriptionSummary;
  /** When the new tier took effect; null when the tier did not change. */
  effectiveFrom: Date | null;
  customQuota: number | null;
}

export interface ChangeTierDeps {
  database: Database;
  stripe: BillingStripe | null;
  now: () => Date;
}

/**
 * SPEC §4 `POST /subscriptions/update`: swaps the subscription's prices to the new tier's (same
 * meters, proration requested; the subscription is flexible, so usage before the swap is still
 * invoiced at the old prices), closes the open tier_history segment and opens the new one, and
 * sets customers.tier. Stripe is called inside the transaction that records the change, under a
 * per-customer lock: a Stripe refusal rolls everything back, and a retry after a crash between
 * Stripe and the commit replays the same idempotency key (derived from the open segment).
 */
export class ChangeTierUseCase {
  constructor(private readonly deps: ChangeTierDeps) {}

  async run(input: ChangeTierInput): Promise<ChangeTierResult> {
    if (input.customQuota !== undefined && input.tier !== "enterprise") {
      throw new BadRequestError("custom_quota: only the enterprise tier has a custom quota");
    }
    const stripe = requireBillingStripe(this.deps.stripe);
    const customer = await new CustomerRepository(this.deps.database.db).findById(input.customerId);
    if (customer === null)
      throw new NotFoundError(`customer_id: no customer ${input.customerId}`, "customer_not_found");
    if (customer.stripeSubscriptionId === null) {
      throw new ConflictError(
        "this customer has no Stripe subscription yet (the Auth0 signup has not linked it)",
        {},
        "not_subscribed",
      );
    }
    try {
      return await this.deps.database.db.transaction(async (tx) => {
        const customers = new CustomerRepository(tx);
        await customers.lockTransaction(`sparks:customer:${customer.id}`);
        const current = await customers.findById(customer.id);
        if (current === null || current.stripeSubscriptionId === null) {
          throw new NotFoundError(`customer_id: no customer ${customer.id}`, "customer_not_found");
        }
        const subscription = await stripe.subscriptions.retrieve(current.stripeSubscriptionId);
        if (current.tier === input.tier) {
          // Nothing to swap; only the enterprise quota may change.
          const row =
            input.customQuota === undefined
              ? current
              : await customers.updateTier(current.id, current.tier, input.customQuota);
          return {
            customerId: row.id,
            tier: row.tier,
            previousTier: row.tier,
            subscription,
            effectiveFrom: null,
            customQuota: row.customQuota,
          };
        }
        const catalog = requireAllPrices(await stripe.subscriptions.tierPrices(input.tier));
        // Back on enterprise with a negotiated rate: the customer's own prices, so Stripe bills
        // the rate the report uses.
        const prices =
          input.tier === "enterprise" && current.negotiatedRate !== null
            ? await ensureCustomerRatePrices(
                stripe.client,
                stripe.meterPrefix,
                current.id,
                current.negotiatedRate,
                catalog,
              )
            : catalog;
        const history = new TierHistoryRepository(tx);
        const open = await history.current(current.id);
        const swapped = await stripe.subscriptions.swapTier(
          subscription,
          prices,
          idempotencyKey("tier", subscription.id, String(open?.id ?? 0), current.tier, input.tier),
        );
        // The new segment records the rate its prices bill at, so the report prices it the same.
        const segmentRate = input.tier === "enterprise" ? current.negotiatedRate : null;
        const change = await history.changeTier(current.id, input.tier, this.deps.now(), "api", segmentRate);
        // Leaving enterprise drops its custom quota: the new tier's quota applies.
        const quota = input.tier === "enterprise" ? input.customQuota : null;
        const row = await customers.updateTier(current.id, input.tier, quota);
        return {
          customerId: row.id,
          tier: row.tier,
          previousTier: current.tier,
          subscription: swapped,
          effectiveFrom: change.opened.effectiveFrom,
          customQuota: row.customQuota,
        };
      });
    } catch (e) {
      throw stripeFailure(e);
    }
  }
}
