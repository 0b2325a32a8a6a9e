import { isTierName, TIER_NAMES, type TierName, USAGE_CATEGORIES, type UsageCategory } from "@sparks/core";
import type Stripe from "stripe";
import { meterEventName, priceLookupKey } from "./stripe.naming";
import { stripeCall } from "./stripe-call";

/** Invoice metadata: why Sparks holds a draft (`pending_usage`, `mismatch`), "" once released. */
export const HOLD_METADATA_KEY = "sparks_hold";
/** Invoice-item metadata marking the volume discount line of one invoice (idempotency). */
export const DISCOUNT_METADATA_KEY = "sparks_volume_discount_for";
/** Invoice-item metadata of a $0 label line (e.g. `late:2026-10`), one per key and invoice. */
export const LABEL_METADATA_KEY = "sparks_label";

export interface SubscriptionState {
  id: string;
  customer: string;
  status: Stripe.Subscription.Status;
  /** The tier all metered prices agree on; null when they disagree or none is ours. */
  tier: TierName | null;
  lookupKeys: string[];
}

export interface InvoiceState {
  id: string;
  customer: string;
  status: Stripe.Invoice.Status | null;
  subscriptionId: string | null;
  periodStart: Date;
  periodEnd: Date;
  autoAdvance: boolean;
  attempted: boolean;
  metadata: Record<string, string>;
  /** What the invoice totals now, in cents (a draft's lines follow meter usage until finalized). */
  totalCents: bigint;
  billingReason: string | null;
}

/** One line of an invoice, as Sparks checks it against the ledger. */
export interface InvoiceLineState {
  id: string;
  amountCents: bigint;
  /** `subscription_item_details` (metered usage) or `invoice_item_details` (an item Sparks added). */
  kind: "usage" | "item" | "other";
  priceLookupKey: string | null;
  quantity: number | null;
  periodStart: Date;
  periodEnd: Date;
  metadata: Record<string, string>;
  description: string | null;
}

/** `${prefix}_${category}_${tier}` → tier; null for a key that is not one of ours. */
export function tierFromLookupKey(prefix: string, lookupKey: string | null | undefined): TierName | null {
  if (!lookupKey) return null;
  for (const category of USAGE_CATEGORIES) {
    for (const tier of TIER_NAMES) if (priceLookupKey(prefix, category, tier) === lookupKey) return tier;
  }
  return null;
}

function customerId(value: string | { id: string } | null | undefined): string {
  if (typeof value === "string") return value;
  return value?.id ?? "";
}

function toInvoiceState(i: Stripe.Invoice): InvoiceState {
  const sub = i.parent?.subscription_details?.subscription;
  return {
    id: i.id ?? "",
    customer: customerId(i.customer),
    status: i.status,
    subscriptionId: typeof sub === "string" ? sub : (sub?.id ?? null),
    periodStart: new Date(i.period_start * 1000),
    periodEnd: new Date(i.period_end * 1000),
    autoAdvance: i.auto_advance ?? false,
    attempted: i.attempted ?? false,
    metadata: (i.metadata ?? {}) as Record<string, string>,
    totalCents: BigInt(i.total ?? 0),
    billingReason: i.billing_reason ?? null,
  };
}

/**
 * The Stripe reads and writes the webhook worker needs: current subscription and invoice
 * state (re-read, because webhook deliveries repeat and arrive out of order), meter totals
 * for an invoice period, holding a draft and the volume-discount line.
 */
export class InvoiceService {
  private meterIds: Map<string, string> | null = null;

  constructor(
    private readonly stripe: Stripe,
    private readonly prefix: string,
  ) {}

  async retrieveSubscription(id: string): Promise<SubscriptionState> {
    const sub = await stripeCall("subscriptions.retrieve", () => this.stripe.subscriptions.retrieve(id));
    const lookupKeys = sub.items.data.map((item) => item.price.lookup_key ?? "");
    const tiers = new Set(lookupKeys.map((k) => tierFromLookupKey(this.prefix, k)).filter(isTierName));
    const [only] = [...tiers];
    return {
      id: sub.id,
      customer: customerId(sub.customer),
      status: sub.status,
      tier: tiers.size === 1 && only !== undefined ? only : null,
      lookupKeys,
    };
  }

  async retrieveInvoice(id: string): Promise<InvoiceState> {
    return toInvoiceState(await stripeCall("invoices.retrieve", () => this.stripe.invoices.retrieve(id)));
  }

  /** Open invoices of a customer whose payment was attempted and is still owed. */
  async unpaidAttemptedInvoices(customer: string): Promise<InvoiceState[]> {
    return stripeCall("invoices.list", async () => {
      const out: InvoiceState[] = [];
      for await (const i of this.stripe.invoices.list({ customer, status: "open", limit: 100 })) {
        const state = toInvoiceState(i);
        if (state.attempted) out.push(state);
      }
      return out;
    });
  }

  /** Sum of the subscription usage lines of an invoice, in cents: what a discount applies to. */
  async usageSubtotalCents(invoiceId: string): Promise<bigint> {
    return stripeCall("invoices.listLineItems", async () => {
      let total = 0n;
      for await (const line of this.stripe.invoices.listLineItems(invoiceId, { limit: 100 })) {
        if (line.parent?.type === "subscription_item_details" && line.amount > 0)
          total += BigInt(line.amount);
      }
      return total;
    });
  }

  /** Whole Sparks Stripe recorded per category for a customer over [start, end). */
  async meterTotals(customer: string, start: Date, end: Date): Promise<Map<UsageCategory, bigint>> {
    const ids = await this.meterIdsByEventName();
    // Summaries need minute-aligned bounds: widen to whole minutes so no event is cut off.
    const startSec = Math.floor(start.getTime() / 60_000) * 60;
    const endSec = Math.ceil(end.getTime() / 60_000) * 60;
    const totals = new Map<UsageCategory, bigint>();
    for (const category of USAGE_CATEGORIES) {
      const meterId = ids.get(meterEventName(this.prefix, category));
      if (meterId === undefined) {
        totals.set(category, 0n);
        continue;
      }
      const sum = await stripeCall("billing.meters.listEventSummaries", async () => {
        let value = 0n;
        for await (const s of this.stripe.billing.meters.listEventSummaries(meterId, {
          customer,
          start_time: startSec,
          end_time: endSec > startSec ? endSec : startSec + 60,
          limit: 100,
        })) {
          value += BigInt(Math.round(s.aggregated_value));
        }
        return value;
      });
      totals.set(category, sum);
    }
    return totals;
  }

  /** `auto_advance=false`: Stripe will not finalize the draft until someone releases it. */
  async holdInvoice(id: string, reason: string): Promise<void> {
    await stripeCall("invoices.update", () =>
      this.stripe.invoices.update(id, { auto_advance: false, metadata: { [HOLD_METADATA_KEY]: reason } }),
    );
  }

  async releaseInvoice(id: string): Promise<void> {
    await stripeCall("invoices.update", () =>
      this.stripe.invoices.update(id, { auto_advance: true, metadata: { [HOLD_METADATA_KEY]: "" } }),
    );
  }

  /**
   * The customer's draft subscription invoice whose period ends at `periodEnd` (the month's
   * end), if Stripe has cut it: how the month close finds an invoice whose `invoice.created`
   * has not been handled yet.
   */
  async findDraftEndingAt(customer: string, periodEnd: Date): Promise<InvoiceState | null> {
    const end = Math.floor(periodEnd.getTime() / 1000);
    return stripeCall("invoices.list", async () => {
      for await (const i of this.stripe.invoices.list({
        customer,
        status: "draft",
        limit: 100,
      })) {
        const state = toInvoiceState(i);
        if (state.subscriptionId !== null && i.period_end === end) return state;
      }
      return null;
    });
  }

  /** The customer's subscription invoice (any status but void) whose period ends at `periodEnd`. */
  async invoiceEndingAt(customer: string, periodEnd: Date): Promise<InvoiceState | null> {
    const end = Math.floor(periodEnd.getTime() / 1000);
    return stripeCall("invoices.list", async () => {
      for await (const i of this.stripe.invoices.list({ customer, limit: 100 })) {
        const state = toInvoiceState(i);
        if (state.subscriptionId !== null && i.period_end === end && i.status !== "void") return state;
      }
      return null;
    });
  }

  /** Every line of an invoice (usage lines carry the price's lookup key, when it is one of ours). */
  async lines(invoiceId: string): Promise<InvoiceLineState[]> {
    const prices = new Map<string, string | null>();
    const lines = await stripeCall("invoices.listLineItems", async () => {
      const out: Array<Stripe.InvoiceLineItem> = [];
      for await (const line of this.stripe.invoices.listLineItems(invoiceId, {
        limit: 100,
      }))
        out.push(line);
      return out;
    });
    const result: InvoiceLineState[] = [];
    for (const line of lines) {
      const priceId = line.pricing?.price_details?.price;
      const price = typeof priceId === "string" ? priceId : (priceId?.id ?? null);
      if (price !== null && !prices.has(price)) {
        const p = await stripeCall("prices.retrieve", () => this.stripe.prices.retrieve(price));
        prices.set(price, p.lookup_key ?? null);
      }
      const kind =
        line.parent?.type === "subscription_item_details"
          ? "usage"
          : line.parent?.type === "invoice_item_details"
            ? "item"
            : "other";
      result.push({
        id: line.id,
        amountCents: BigInt(line.amount),
        kind,
        priceLookupKey: price === null ? null : (prices.get(price) ?? null),
        quantity: line.quantity ?? null,
        periodStart: new Date(line.period.start * 1000),
        periodEnd: new Date(line.period.end * 1000),
        metadata: (line.metadata ?? {}) as Record<string, string>,
        description: line.description ?? null,
      });
    }
    return result;
  }

  /**
   * Makes the draft carry exactly one volume-discount line of `amountCents` (0: none): an
   * earlier line of ours with another amount is updated in place, extra copies are deleted, so
   * a discount computed again on later usage replaces the old one and is never duplicated.
   */
  async setDiscountItem(
    invoice: InvoiceState,
    amountCents: bigint,
    description: string,
  ): Promise<{
    id: string | null;
    action: "created" | "updated" | "kept" | "removed" | "none";
  }> {
    const ours = await stripeCall("invoiceItems.list", async () => {
      const found: Stripe.InvoiceItem[] = [];
      for await (const item of this.stripe.invoiceItems.list({
        invoice: invoice.id,
        limit: 100,
      })) {
        if (item.metadata?.[DISCOUNT_METADATA_KEY] === invoice.id) found.push(item);
      }
      return found.sort((a, b) => a.id.localeCompare(b.id));
    });
    const [first, ...extra] = ours;
    for (const item of extra) {
      await stripeCall("invoiceItems.del", () => this.stripe.invoiceItems.del(item.id));
    }
    if (amountCents <= 0n) {
      if (first === undefined) return { id: null, action: "none" };
      await stripeCall("invoiceItems.del", () => this.stripe.invoiceItems.del(first.id));
      return { id: null, action: "removed" };
    }
    if (first !== undefined) {
      if (BigInt(first.amount) === -amountCents && first.description === description) {
        return { id: first.id, action: "kept" };
      }
      await stripeCall("invoiceItems.update", () =>
        this.stripe.invoiceItems.update(first.id, {
          amount: -Number(amountCents),
          description,
        }),
      );
      return { id: first.id, action: "updated" };
    }
    const item = await stripeCall("invoiceItems.create", () =>
      this.stripe.invoiceItems.create(
        {
          customer: invoice.customer,
          invoice: invoice.id,
          amount: -Number(amountCents),
          currency: "usd",
          description,
          discountable: false,
          metadata: { [DISCOUNT_METADATA_KEY]: invoice.id },
        },
        // The amount is part of the key: a crash after creating replays the same line, a
        // later recomputation with another amount is a different request.
        {
          idempotencyKey: `sparks-volume-discount-${invoice.id}-${amountCents}`,
        },
      ),
    );
    return { id: item.id, action: "created" };
  }

  /**
   * A $0 line that labels what the usage lines contain, e.g. usage of an earlier month billed
   * late: one per `key` on the draft (metadata `sparks_label`), its text updated in place.
   */
  async setLabelItem(invoice: InvoiceState, key: string, description: string): Promise<string> {
    const existing = await stripeCall("invoiceItems.list", async () => {
      for await (const item of this.stripe.invoiceItems.list({ invoice: invoice.id, limit: 100 })) {
        if (item.metadata?.[LABEL_METADATA_KEY] === key) return item;
      }
      return null;
    });
    if (existing) {
      if (existing.description !== description) {
        await stripeCall("invoiceItems.update", () =>
          this.stripe.invoiceItems.update(existing.id, { description }),
        );
      }
      return existing.id;
    }
    const item = await stripeCall("invoiceItems.create", () =>
      this.stripe.invoiceItems.create(
        {
          customer: invoice.customer,
          invoice: invoice.id,
          amount: 0,
          currency: "usd",
          description,
          discountable: false,
          metadata: { [LABEL_METADATA_KEY]: key },
        },
        { idempotencyKey: `sparks-label-${invoice.id}-${key}` },
      ),
    );
    return item.id;
  }

  /** Finalizes a held draft now; returns the finalized invoice. */
  async finalizeInvoice(id: string): Promise<InvoiceState> {
    return toInvoiceState(
      await stripeCall("invoices.finalizeInvoice", () =>
        this.stripe.invoices.finalizeInvoice(id, { auto_advance: true }),
      ),
    );
  }

  /** Marks the hold in metadata without touching anything else (auto_advance stays false). */
  async noteHold(id: string, reason: string): Promise<void> {
    await stripeCall("invoices.update", () =>
      this.stripe.invoices.update(id, {
        metadata: { [HOLD_METADATA_KEY]: reason },
      }),
    );
  }

  /**
   * Adds the volume discount as one negative invoice item on the draft, at most once per
   * invoice: an existing item carrying our metadata wins (Stripe keeps idempotency keys only
   * 24 h, the metadata forever), and the idempotency key covers a crash between the two.
   */
  async ensureDiscountItem(
    invoice: InvoiceState,
    amountCents: bigint,
    description: string,
  ): Promise<{ created: boolean; id: string }> {
    const existing = await stripeCall("invoiceItems.list", async () => {
      for await (const item of this.stripe.invoiceItems.list({ invoice: invoice.id, limit: 100 })) {
        if (item.metadata?.[DISCOUNT_METADATA_KEY] === invoice.id) return item.id;
      }
      return null;
    });
    if (existing !== null) return { created: false, id: existing };
    const item = await stripeCall("invoiceItems.create", () =>
      this.stripe.invoiceItems.create(
        {
          customer: invoice.customer,
          invoice: invoice.id,
          amount: -Number(amountCents),
          currency: "usd",
          description,
          discountable: false,
          metadata: { [DISCOUNT_METADATA_KEY]: invoice.id },
        },
        { idempotencyKey: `sparks-volume-discount-${invoice.id}` },
      ),
    );
    return { created: true, id: item.id };
  }

  private async meterIdsByEventName(): Promise<Map<string, string>> {
    if (this.meterIds) return this.meterIds;
    const ids = await stripeCall("billing.meters.list", async () => {
      const map = new Map<string, string>();
      for await (const m of this.stripe.billing.meters.list({ status: "active", limit: 100 })) {
        map.set(m.event_name, m.id);
      }
      return map;
    });
    // Cached only once every category's meter exists, so a later `stripe:setup` is picked up.
    if (USAGE_CATEGORIES.every((c) => ids.has(meterEventName(this.prefix, c)))) this.meterIds = ids;
    return ids;
  }
}
