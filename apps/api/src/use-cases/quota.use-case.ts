import {
  type BillingConfig,
  evaluateQuota,
  monthOf,
  type QuotaDenialReason,
  type TierName,
} from "@sparks/core";
import type { CustomerRepository, CustomerRow } from "@sparks/db";
import { ServiceUnavailableError } from "../errors/http-errors";
import type { CounterReader } from "./batched-counters.reader";
import { TIER_FEATURES, type TierFeatures } from "./tier-features";

/** How long a customer's tier/status is reused: a pause or tier change shows within this. */
export const QUOTA_CUSTOMER_TTL_MS = 1_000;
const MAX_CACHED = 50_000;

/** What `/quota` needs of a customer: small, so the cache stays small. */
export interface QuotaCustomer {
  id: string;
  tier: TierName;
  paused: boolean;
  customQuota: number | null;
}

export interface QuotaAnswer {
  customerId: string;
  month: string;
  allowed: boolean;
  tier: TierName;
  limit: number | null;
  used: number;
  remaining: number | null;
  reason: QuotaDenialReason | null;
  features: TierFeatures;
}

export interface QuotaDeps {
  customers: CustomerRepository;
  /** The month's counter: `UsageCounters`, or a `BatchedCounterReader` over it. */
  counters: CounterReader;
  billing: BillingConfig;
  now: () => Date;
  ttlMs?: number;
}

function toQuotaCustomer(row: CustomerRow): QuotaCustomer {
  return { id: row.id, tier: row.tier, paused: row.status === "paused", customQuota: row.customQuota };
}

/**
 * SPEC §4 `GET /quota`, on the hot path of every Flowise run: one Redis read of the month's
 * counter (written by the pipeline) plus the customer's tier and status from a short-lived
 * in-process cache, never a ledger scan. The month is the current UTC month, so the counter
 * "resets" on the 1st by reading a new key.
 */
export class QuotaUseCase {
  private readonly cache = new Map<string, { customer: Promise<QuotaCustomer | null>; expiresAt: number }>();
  private readonly ttlMs: number;

  constructor(private readonly deps: QuotaDeps) {
    this.ttlMs = deps.ttlMs ?? QUOTA_CUSTOMER_TTL_MS;
  }

  /**
   * A customer by Sparks id or Auth0 user id; unknown ones are cached too (as null). The
   * lookup itself is cached, not only its result: when an entry expires under load, the
   * requests arriving meanwhile share one query instead of each sending its own.
   */
  customer(reference: string): Promise<QuotaCustomer | null> {
    const nowMs = Date.now();
    const hit = this.cache.get(reference);
    if (hit !== undefined && hit.expiresAt > nowMs) return hit.customer;
    const customer = this.deps.customers
      .findByReference(reference)
      .then((row) => (row === null ? null : toQuotaCustomer(row)));
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    const entry = { customer, expiresAt: nowMs + this.ttlMs };
    this.cache.set(reference, entry);
    // A failed lookup is not remembered: the next request tries again.
    customer.catch(() => {
      if (this.cache.get(reference) === entry) this.cache.delete(reference);
    });
    return customer;
  }

  async evaluate(customer: QuotaCustomer): Promise<QuotaAnswer> {
    const month = monthOf(this.deps.now());
    let used = 0;
    try {
      used = (await this.deps.counters.get(customer.id, month))?.sparks ?? 0;
    } catch {
      throw new ServiceUnavailableError(
        "usage_counters_unavailable",
        "the usage counters (Redis) did not answer; try again",
      );
    }
    const decision = evaluateQuota({
      tier: customer.tier,
      usedSparks: used,
      // customers.custom_quota null means "the tier's quota"; only enterprise contracts have one.
      customQuota:
        customer.tier === "enterprise" && customer.customQuota !== null ? customer.customQuota : undefined,
      paused: customer.paused ? "payment_failed" : null,
      config: this.deps.billing,
    });
    return {
      customerId: customer.id,
      month,
      allowed: decision.allowed,
      tier: decision.tier,
      limit: decision.limit,
      used: decision.used,
      remaining: decision.remaining,
      reason: decision.reason ?? null,
      features: TIER_FEATURES[customer.tier],
    };
  }
}
