import { createHash } from "node:crypto";
import type Stripe from "stripe";
import { stripeCall } from "./stripe-call";

/** Metadata on the Stripe customer naming its Auth0 user: how a crashed signup's customer is found. */
export const AUTH0_USER_METADATA_KEY = "auth0_user_id";
/** Metadata naming the Sparks customer, on Stripe customers and subscriptions. */
export const SPARKS_CUSTOMER_METADATA_KEY = "sparks_customer_id";

/** Auth0 user ids are `provider|id`; quotes or backslashes would break Stripe's search syntax. */
const SEARCHABLE = /^[^'"\\\s]{1,255}$/;

export interface StripeCustomerRef {
  id: string;
  /** The Sparks customer id an earlier attempt put in the metadata, if any. */
  sparksCustomerId: string | null;
  /** True when this call created it. */
  created: boolean;
}

export interface FindOrCreateCustomerInput {
  auth0UserId: string;
  sparksCustomerId: string;
  email?: string | null;
  name?: string | null;
}

/** Idempotency keys from stable inputs only, hashed so any Auth0 id shape fits Stripe's limit. */
export function idempotencyKey(purpose: string, ...parts: string[]): string {
  const digest = createHash("sha256").update(parts.join("\u0000"), "utf8").digest("hex").slice(0, 40);
  return `sparks-${purpose}-${digest}`;
}

/**
 * The Stripe customer of an Auth0 user, found or created exactly once. Two guards, because
 * either alone has a gap: the create call's idempotency key (derived from the user) makes a
 * concurrent or retried create return the same customer for 24 hours; the metadata search
 * finds a customer created by an attempt that crashed before storing it, after those 24 hours.
 */
export class StripeCustomerService {
  constructor(private readonly stripe: Stripe) {}

  static isSearchableAuth0UserId(auth0UserId: string): boolean {
    return SEARCHABLE.test(auth0UserId);
  }

  async findByAuth0UserId(auth0UserId: string): Promise<StripeCustomerRef | null> {
    if (!SEARCHABLE.test(auth0UserId)) throw new RangeError(`unsearchable Auth0 user id: ${auth0UserId}`);
    const result = await stripeCall("customers.search", () =>
      this.stripe.customers.search({
        query: `metadata['${AUTH0_USER_METADATA_KEY}']:'${auth0UserId}'`,
        limit: 10,
      }),
    );
    // Oldest first: if two ever existed, the first one is the one anything else points at.
    const found = [...result.data].sort((a, b) => a.created - b.created)[0];
    if (found === undefined) return null;
    return {
      id: found.id,
      sparksCustomerId: found.metadata[SPARKS_CUSTOMER_METADATA_KEY] ?? null,
      created: false,
    };
  }

  async findOrCreate(input: FindOrCreateCustomerInput): Promise<StripeCustomerRef> {
    const existing = await this.findByAuth0UserId(input.auth0UserId);
    if (existing !== null) return existing;
    const params: Stripe.CustomerCreateParams = {
      metadata: {
        [AUTH0_USER_METADATA_KEY]: input.auth0UserId,
        [SPARKS_CUSTOMER_METADATA_KEY]: input.sparksCustomerId,
      },
      ...(input.email ? { email: input.email } : {}),
      ...(input.name ? { name: input.name } : {}),
    };
    const key = idempotencyKey(
      "customer",
      input.auth0UserId,
      input.sparksCustomerId,
      input.email ?? "",
      input.name ?? "",
    );
    const created = await stripeCall("customers.create", () =>
      this.stripe.customers.create(params, { idempotencyKey: key }),
    );
    return {
      id: created.id,
      sparksCustomerId: created.metadata[SPARKS_CUSTOMER_METADATA_KEY] ?? null,
      created: true,
    };
  }
}
