import type { TierName } from "@sparks/core";
import { CustomerRepository, type CustomerRow, type Database, TierHistoryRepository } from "@sparks/db";
import { AUTH0_USER_METADATA_KEY, idempotencyKey, SPARKS_CUSTOMER_METADATA_KEY } from "@sparks/stripe";
import type { Logger } from "pino";
import type { Auth0ManagementClient } from "./auth0-management.client";
import { type BillingStripe, requireAllPrices, requireBillingStripe, stripeFailure } from "./billing-stripe";

export interface SignupInput {
  auth0UserId: string;
  email?: string | null;
  name?: string | null;
}

export type Auth0MetadataOutcome = "written" | "skipped" | "failed";

export interface SignupResult {
  customerId: string;
  auth0UserId: string;
  stripeCustomerId: string;
  subscriptionId: string;
  tier: TierName;
  /** Whether `app_metadata.stripe_customer_id` was written to Auth0 by this call. */
  auth0Metadata: Auth0MetadataOutcome;
}

export interface SignupDeps {
  database: Database;
  stripe: BillingStripe | null;
  auth0: Auth0ManagementClient | null;
  now: () => Date;
  logger?: Pick<Logger, "warn" | "info">;
}

type LinkedRow = CustomerRow & {
  auth0UserId: string;
  stripeCustomerId: string;
  stripeSubscriptionId: string;
};

function isLinked(row: CustomerRow | null): row is LinkedRow {
  return (
    row !== null &&
    row.auth0UserId !== null &&
    row.stripeCustomerId !== null &&
    row.stripeSubscriptionId !== null
  );
}

/**
 * SPEC §4 `POST /auth0/signup`: links an Auth0 user to one Stripe customer and one
 * subscription on its tier's prices (free for a new user), exactly once however often and
 * however concurrently it is called:
 * 1. the customers row is inserted-or-read first (unique auth0_user_id), so the Sparks id is
 *    stable and goes into Stripe metadata and idempotency keys;
 * 2. the Stripe work runs under a per-user advisory lock in a transaction that also stores
 *    the ids, so concurrent calls (in any process) run one after the other and the second
 *    finds the first one's result;
 * 3. a crashed attempt's Stripe customer is found by metadata search, its subscription by
 *    listing the customer's subscriptions; creates carry idempotency keys derived from the user.
 */
export class SignupUseCase {
  constructor(private readonly deps: SignupDeps) {}

  async run(input: SignupInput): Promise<SignupResult> {
    const customers = new CustomerRepository(this.deps.database.db);
    const found = await customers.findByAuth0UserId(input.auth0UserId);
    const row = isLinked(found)
      ? found
      : await this.link(input).catch((e: unknown) => Promise.reject(stripeFailure(e)));
    const auth0Metadata = await this.writeAuth0Metadata(row);
    return {
      customerId: row.id,
      auth0UserId: row.auth0UserId,
      stripeCustomerId: row.stripeCustomerId,
      subscriptionId: row.stripeSubscriptionId,
      tier: row.tier,
      auth0Metadata,
    };
  }

  private async link(input: SignupInput): Promise<LinkedRow> {
    const stripe = requireBillingStripe(this.deps.stripe);
    const pending = await new CustomerRepository(this.deps.database.db).insertOrGetByAuth0UserId({
      auth0UserId: input.auth0UserId,
      email: input.email ?? null,
      name: input.name ?? null,
    });
    // Checked before anything is created in Stripe: without the catalog nothing can be linked.
    const prices = requireAllPrices(await stripe.subscriptions.tierPrices(pending.tier));

    return this.deps.database.db.transaction(async (tx) => {
      const customers = new CustomerRepository(tx);
      await customers.lockTransaction(`sparks:signup:${input.auth0UserId}`);
      const current = await customers.findById(pending.id);
      if (isLinked(current)) return current;
      const base = current ?? pending;

      const stripeCustomerId =
        base.stripeCustomerId ??
        (
          await stripe.customers.findOrCreate({
            auth0UserId: input.auth0UserId,
            sparksCustomerId: base.id,
            email: base.email,
            name: base.name,
          })
        ).id;
      const subscription =
        (await stripe.subscriptions.findLive(stripeCustomerId)) ??
        (await stripe.subscriptions.create({
          stripeCustomerId,
          sparksCustomerId: base.id,
          prices,
          idempotencyKey: idempotencyKey(
            "subscription",
            input.auth0UserId,
            stripeCustomerId,
            ...prices.prices.map((p) => p.priceId),
          ),
        }));

      const linked = await customers.upsertSignup({
        id: base.id,
        auth0UserId: input.auth0UserId,
        stripeCustomerId,
        stripeSubscriptionId: subscription.id,
        email: base.email,
        name: base.name,
      });
      const history = new TierHistoryRepository(tx);
      if ((await history.current(linked.id)) === null) {
        await history.changeTier(linked.id, linked.tier, this.deps.now(), "signup");
      }
      this.deps.logger?.info(
        {
          customer_id: linked.id,
          stripe_customer_id: stripeCustomerId,
          subscription_id: subscription.id,
          [AUTH0_USER_METADATA_KEY]: input.auth0UserId,
        },
        "signup linked",
      );
      if (!isLinked(linked)) throw new Error("signup stored an incomplete customer row");
      return linked;
    });
  }

  /** Best effort: the mapping lives in Sparks; Auth0's copy is a convenience for the app. */
  private async writeAuth0Metadata(row: LinkedRow): Promise<Auth0MetadataOutcome> {
    if (this.deps.auth0 === null) return "skipped";
    try {
      await this.deps.auth0.setAppMetadata(row.auth0UserId, {
        stripe_customer_id: row.stripeCustomerId,
        [SPARKS_CUSTOMER_METADATA_KEY]: row.id,
      });
      return "written";
    } catch (e) {
      this.deps.logger?.warn(
        { err: e, customer_id: row.id },
        "could not write app_metadata.stripe_customer_id to Auth0; a repeated signup call retries it",
      );
      return "failed";
    }
  }
}
