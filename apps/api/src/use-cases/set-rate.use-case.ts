import { parseDecimal } from "@sparks/core";
import { CustomerRepository, type Database, TierHistoryRepository } from "@sparks/db";
import {
  centsPerSpark,
  ensureCustomerRatePrices,
  idempotencyKey,
  type SubscriptionSummary,
} from "@sparks/stripe";
import { BadRequestError, ConflictError, NotFoundError } from "../errors/http-errors";
import { type BillingStripe, requireAllPrices, requireBillingStripe, stripeFailure } from "./billing-stripe";

/** A plain positive decimal: Stripe's cents per Spark may carry at most 12 decimals, so ≤ 10 here. */
const RATE = /^(?:0|[1-9]\d{0,5})(?:\.\d{1,10})?$/;

export interface SetRateInput {
  /** A Sparks customer id or Auth0 user id. */
  customer: string;
  usdPerSpark: string;
}

export interface SetRateResult {
  customerId: string;
  usdPerSpark: string;
  previousUsdPerSpark: string | null;
  subscription: SubscriptionSummary;
  prices: Array<{ category: string; priceId: string; lookupKey: string }>;
  /** Why this month's invoice and report may differ (a rate changed after usage). */
  warnings: string[];
}

export interface SetRateDeps {
  database: Database;
  stripe: BillingStripe | null;
  now?: () => Date;
}

/** Validates `usd_per_spark`: a positive decimal string, refused with a message naming the field. */
export function parseUsdPerSpark(raw: unknown): string {
  const text = typeof raw === "number" && Number.isFinite(raw) ? String(raw) : raw;
  if (typeof text !== "string" || !RATE.test(text.trim())) {
    throw new BadRequestError(
      'usd_per_spark: must be a positive decimal such as "0.0008" (USD per Spark, at most 10 decimals)',
    );
  }
  const trimmed = text.trim();
  const parsed = parseDecimal(trimmed);
  if (!parsed.ok || parsed.val.coefficient <= 0n) {
    throw new BadRequestError("usd_per_spark: must be greater than 0");
  }
  try {
    centsPerSpark(trimmed);
  } catch (e) {
    throw new BadRequestError(`usd_per_spark: ${(e as Error).message}`);
  }
  return trimmed;
}

/**
 * A negotiated enterprise rate (SPEC §3, §5): the customer's own metered prices at that rate on
 * the catalog's meters (found or created by lookup key), swapped into its subscription
 * (flexible: usage before the swap stays billed at the old price), and the rate recorded on
 * the customer so `/usage/report` prices the month with it. Runs under the per-customer lock
 * inside one transaction, as a tier change does: a Stripe refusal leaves the ledger unchanged,
 * and a retry reuses the same idempotency keys.
 */
export class SetRateUseCase {
  constructor(private readonly deps: SetRateDeps) {}

  async run(input: SetRateInput): Promise<SetRateResult> {
    const rate = parseUsdPerSpark(input.usdPerSpark);
    const stripe = requireBillingStripe(this.deps.stripe);
    const found = await new CustomerRepository(this.deps.database.db).findByReference(input.customer);
    if (found === null)
      throw new NotFoundError(`customer_id: no customer ${input.customer}`, "customer_not_found");
    try {
      return await this.deps.database.db.transaction(async (tx) => {
        const customers = new CustomerRepository(tx);
        await customers.lockTransaction(`sparks:customer:${found.id}`);
        const current = await customers.findById(found.id);
        if (current === null)
          throw new NotFoundError(`customer_id: no customer ${found.id}`, "customer_not_found");
        if (current.tier !== "enterprise") {
          throw new ConflictError(
            `customer_id: ${current.id} is on the ${current.tier} tier; a negotiated rate applies to enterprise (POST /subscriptions/update first)`,
            { tier: current.tier },
            "not_enterprise",
          );
        }
        if (current.stripeSubscriptionId === null) {
          throw new ConflictError(
            "customer_id: this customer has no Stripe subscription yet",
            {},
            "not_subscribed",
          );
        }
        const template = requireAllPrices(await stripe.subscriptions.tierPrices("enterprise"));
        const own = await ensureCustomerRatePrices(
          stripe.client,
          stripe.meterPrefix,
          current.id,
          rate,
          template,
        );
        const subscription = await stripe.subscriptions.retrieve(current.stripeSubscriptionId);
        const swapped = await stripe.subscriptions.swapTier(
          subscription,
          own,
          idempotencyKey("rate", subscription.id, current.negotiatedRate ?? "catalog", rate),
        );
        await customers.setNegotiatedRate(current.id, rate);
        // Stripe bills usage before the swap at the previous price and usage after it at the new
        // one: a segment opened at the same instant lets the report price the month the same way.
        const now = (this.deps.now ?? (() => new Date()))();
        if (current.negotiatedRate !== rate) {
          await new TierHistoryRepository(tx).changeTier(current.id, "enterprise", now, "api", rate);
        }
        const warnings: string[] = [];
        return {
          customerId: current.id,
          usdPerSpark: rate,
          previousUsdPerSpark: current.negotiatedRate,
          subscription: swapped,
          prices: own.prices.map((p) => ({
            category: p.category,
            priceId: p.priceId,
            lookupKey: p.lookupKey,
          })),
          warnings,
        };
      });
    } catch (e) {
      throw stripeFailure(e);
    }
  }
}
