import {
  type BillingConfig,
  countersFailPolicy,
  evaluateQuota,
  monthOf,
  NANO_PER_SPARK,
  parseNanoSparks,
  type QuotaDenialReason,
  spendCapSparks,
  type TierName,
} from "@sparks/core";
import type { CustomerRepository, CustomerRow, QuotaCap, QuotaRepository } from "@sparks/db";
import type { QuotaCountersGuard } from "@sparks/ledger";
import type { QuotaSnapshot, QuotaStore } from "@sparks/queues";
import { ServiceUnavailableError } from "../errors/http-errors";
import { TIER_FEATURES, type TierFeatures } from "./tier-features";

/** How long a customer's tier/status/cap is reused: a pause, tier or cap change shows within this. */
export const QUOTA_CUSTOMER_TTL_MS = 1_000;
const MAX_CACHED = 50_000;

/** What `/quota` needs of a customer: small, so the cache stays small. */
export interface QuotaCustomer {
  id: string;
  tier: TierName;
  paused: boolean;
  customQuota: number | null;
  cap: (QuotaCap & { sparks: number }) | null;
}

/** `live`: Redis answered with trusted counters; otherwise the ledger answered (see fail policy). */
export type CountersState = "live" | "rebuilding" | "unavailable";

export interface QuotaAnswer {
  customerId: string;
  month: string;
  allowed: boolean;
  tier: TierName;
  limit: number | null;
  /** billed + provisional + held (SPEC §4). */
  used: number;
  remaining: number | null;
  billed: number;
  provisional: number;
  held: number;
  reason: QuotaDenialReason | null;
  counters: CountersState;
  features: TierFeatures;
  cap: QuotaCustomer["cap"];
}

export type ReserveAnswer =
  | {
      allowed: true;
      reservationId: string | null;
      remaining: number | null;
      expiresAt: Date | null;
      reason: QuotaDenialReason | null;
    }
  | {
      allowed: false;
      reservationId: null;
      remaining: number | null;
      expiresAt: null;
      reason: QuotaDenialReason;
    };

export interface QuotaDeps {
  customers: CustomerRepository;
  quotaRepository: QuotaRepository;
  store: QuotaStore;
  /** The snapshot reader: `QuotaStore` itself or a `BatchedQuotaReader` over it. */
  reader: { get(customerId: string, month: string): Promise<QuotaSnapshot> };
  guard: QuotaCountersGuard;
  billing: BillingConfig;
  now: () => Date;
  /** How long a settled reservation's real usage stays held (until the refresh has read it). */
  settleBridgeMs: number;
  ttlMs?: number;
}

function wholeOf(exact: string): number {
  const nano = exact.startsWith("-") ? 0n : parseNanoSparks(exact);
  return Number(nano / NANO_PER_SPARK);
}

/**
 * SPEC §4 `/quota`, `/quota/reserve`, `/quota/settle`, on the hot path of every Flowise run:
 * one Redis command for billed + provisional + held, the customer's tier, status and spend cap
 * from a short-lived in-process cache. When Redis is unreachable or has lost its data (the
 * counters-ready marker is gone), the answer comes from the Postgres ledger and the tier's
 * fail policy decides `allowed` — never `used: 0` because Redis forgot.
 */
export class QuotaUseCase {
  private readonly cache = new Map<string, { customer: Promise<QuotaCustomer | null>; expiresAt: number }>();
  private readonly ttlMs: number;

  constructor(private readonly deps: QuotaDeps) {
    this.ttlMs = deps.ttlMs ?? QUOTA_CUSTOMER_TTL_MS;
  }

  private async load(reference: string): Promise<QuotaCustomer | null> {
    const row: CustomerRow | null = await this.deps.customers.findByReference(reference);
    if (row === null) return null;
    // Spend caps apply to paid tiers only; the free tier's cap is its quota.
    const cap = row.tier === "free" ? null : await this.deps.quotaRepository.cap(row.id);
    return {
      id: row.id,
      tier: row.tier,
      paused: row.status === "paused",
      customQuota: row.customQuota,
      cap: cap ? { ...cap, sparks: spendCapSparks(cap, this.deps.billing.sparkRateUsd) } : null,
    };
  }

  /**
   * A customer by Sparks id or Auth0 user id; unknown ones are cached too (as null). The
   * lookup itself is cached, not only its result: requests arriving while it runs share it.
   */
  customer(reference: string): Promise<QuotaCustomer | null> {
    const nowMs = Date.now();
    const hit = this.cache.get(reference);
    if (hit !== undefined && hit.expiresAt > nowMs) return hit.customer;
    const customer = this.load(reference);
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    const entry = { customer, expiresAt: nowMs + this.ttlMs };
    this.cache.set(reference, entry);
    // A failed lookup is not remembered: the next request tries again.
    customer.catch(() => {
      if (this.cache.get(reference) === entry) this.cache.delete(reference);
    });
    return customer;
  }

  /** Forgets cached customers (after an admin changed a cap). */
  forget(): void {
    this.cache.clear();
  }

  private decide(customer: QuotaCustomer, used: number) {
    return evaluateQuota({
      tier: customer.tier,
      usedSparks: used,
      // customers.custom_quota null means "the tier's quota"; only enterprise contracts have one.
      customQuota:
        customer.tier === "enterprise" && customer.customQuota !== null ? customer.customQuota : undefined,
      paused: customer.paused ? "payment_failed" : null,
      spendCap: customer.cap ? { sparks: customer.cap.sparks, soft: customer.cap.soft } : null,
      config: this.deps.billing,
    });
  }

  /** The ledger's billed total when Redis cannot be trusted; a database failure is a 503. */
  private async ledgerUsed(customerId: string, month: string): Promise<number> {
    try {
      const rows = await this.deps.quotaRepository.monthTotals(month, customerId);
      return rows[0] ? wholeOf(rows[0].exact) : 0;
    } catch {
      throw new ServiceUnavailableError(
        "usage_counters_unavailable",
        "neither the usage counters (Redis) nor the ledger (Postgres) answered; try again",
      );
    }
  }

  private async snapshot(customerId: string, month: string): Promise<QuotaSnapshot | "unavailable"> {
    try {
      const snapshot = await this.deps.reader.get(customerId, month);
      if (!snapshot.trusted) this.deps.guard.kick();
      return snapshot;
    } catch {
      return "unavailable";
    }
  }

  async evaluate(customer: QuotaCustomer): Promise<QuotaAnswer> {
    const month = monthOf(this.deps.now());
    const snapshot = await this.snapshot(customer.id, month);
    const base = {
      customerId: customer.id,
      month,
      features: TIER_FEATURES[customer.tier],
      cap: customer.cap,
    };
    if (snapshot !== "unavailable" && snapshot.trusted) {
      const used = snapshot.billed + snapshot.provisional + snapshot.held;
      const decision = this.decide(customer, used);
      return {
        ...base,
        allowed: decision.allowed,
        tier: decision.tier,
        limit: decision.limit,
        used: decision.used,
        remaining: decision.remaining,
        billed: snapshot.billed,
        provisional: snapshot.provisional,
        held: snapshot.held,
        reason: decision.reason ?? null,
        counters: "live",
      };
    }
    // Redis is down or lost its data: the ledger's billed total is the floor of the truth,
    // and the tier's policy says whether to let the run go meanwhile.
    const billed = await this.ledgerUsed(customer.id, month);
    const decision = this.decide(customer, billed);
    const closed = countersFailPolicy(this.deps.billing, customer.tier) === "fail_closed";
    const allowed = decision.allowed && !closed;
    return {
      ...base,
      allowed,
      tier: decision.tier,
      limit: decision.limit,
      used: decision.used,
      remaining: decision.remaining,
      billed,
      provisional: 0,
      held: 0,
      reason: decision.reason ?? (allowed ? null : "counters_unavailable"),
      counters: snapshot === "unavailable" ? "unavailable" : "rebuilding",
    };
  }

  /** The limit a reservation must fit under: the tier's quota and a hard spend cap (null = none). */
  private hardLimit(customer: QuotaCustomer): { limit: number | null; reason: QuotaDenialReason } {
    const policy = this.deps.billing.tiers[customer.tier];
    const quota =
      customer.tier === "enterprise" && customer.customQuota !== null
        ? customer.customQuota
        : (policy?.monthlyQuota ?? null);
    const cap = customer.cap && !customer.cap.soft ? customer.cap.sparks : null;
    if (cap !== null && (quota === null || cap < quota)) return { limit: cap, reason: "spend_cap_exceeded" };
    return { limit: quota, reason: "quota_exceeded" };
  }

  async reserve(customer: QuotaCustomer, sparks: number, ttlSeconds: number): Promise<ReserveAnswer> {
    if (customer.paused) {
      return {
        allowed: false,
        reservationId: null,
        remaining: null,
        expiresAt: null,
        reason: "payment_failed",
      };
    }
    const month = monthOf(this.deps.now());
    const { limit, reason } = this.hardLimit(customer);
    const failOpen = countersFailPolicy(this.deps.billing, customer.tier) === "fail_open";
    const input = { customerId: customer.id, month, sparks, limit, ttlMs: ttlSeconds * 1000 };
    const denyUnavailable = {
      allowed: false as const,
      reservationId: null,
      remaining: null,
      expiresAt: null,
      reason: "counters_unavailable" as const,
    };
    let outcome: Awaited<ReturnType<QuotaStore["reserve"]>>;
    try {
      outcome = await this.deps.store.reserve(input);
      if (outcome.status === "untrusted") {
        this.deps.guard.kick();
        if (!failOpen) return denyUnavailable;
        // Failing open still records the hold, so the counters see it once rebuilt.
        outcome = await this.deps.store.reserve({ ...input, limit: null, ignoreMarker: true });
      }
    } catch {
      if (!failOpen) return denyUnavailable;
      // Redis is unreachable: nothing can be held; the tier's policy lets the run go.
      return {
        allowed: true,
        reservationId: null,
        remaining: null,
        expiresAt: null,
        reason: "counters_unavailable",
      };
    }
    if (outcome.status === "denied") {
      const remaining = limit === null ? null : Math.max(0, limit - outcome.used - outcome.held);
      return { allowed: false, reservationId: null, remaining, expiresAt: null, reason };
    }
    if (outcome.status !== "allowed") return denyUnavailable;
    return {
      allowed: true,
      reservationId: outcome.reservationId,
      remaining: limit === null ? null : Math.max(0, limit - outcome.used - outcome.held),
      expiresAt: outcome.expiresAt,
      reason: null,
    };
  }

  settle(reservationId: string, usedSparks: number | undefined) {
    return this.deps.store.settle(reservationId, {
      ...(usedSparks === undefined ? {} : { usedSparks }),
      bridgeMs: this.deps.settleBridgeMs,
    });
  }
}
