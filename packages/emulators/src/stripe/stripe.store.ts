import { MeterEventLedger } from "./meter-event.ledger";
import { newId } from "./stripe.ids";
import type {
  CouponObject,
  CustomerObject,
  InvoiceItemObject,
  InvoiceLineObject,
  InvoiceObject,
  MeterObject,
  PriceChange,
  PriceObject,
  ProductObject,
  StripeEventObject,
  SubscriptionItemObject,
  SubscriptionObject,
} from "./stripe.types";
import { StripeApiError } from "./stripe-api.error";
import { amountFor } from "./stripe-pricing";

export const STRIPE_API_VERSION = "2026-10-28.clover";

export type StoreEventListener = (event: StripeEventObject) => void;

/**
 * Everything the emulated Stripe account holds, plus the control helpers tests use to move
 * billing state the way Stripe would on its own (draft invoices at period end, failed
 * payments). Each state change Stripe announces is emitted as an `Event`.
 */
export class StripeStore {
  readonly customers = new Map<string, CustomerObject>();
  readonly products = new Map<string, ProductObject>();
  readonly prices = new Map<string, PriceObject>();
  readonly meters = new Map<string, MeterObject>();
  readonly coupons = new Map<string, CouponObject>();
  readonly subscriptions = new Map<string, SubscriptionObject>();
  readonly invoices = new Map<string, InvoiceObject>();
  readonly invoiceItems = new Map<string, InvoiceItemObject>();
  /** Active meters by `event_name`: the meter-event path resolves its meter in O(1). */
  readonly metersByEventName = new Map<string, MeterObject>();
  readonly pricesByLookupKey = new Map<string, PriceObject>();
  readonly meterEvents = new MeterEventLedger();
  /** Every price change on a subscription item, oldest first (swaps are history, not edits). */
  readonly priceChanges: PriceChange[] = [];
  readonly events: StripeEventObject[] = [];
  private readonly listeners: StoreEventListener[] = [];
  private invoiceCounter = 0;

  constructor(readonly now: () => number) {}

  nowSec(): number {
    return Math.floor(this.now() / 1000);
  }

  onEvent(listener: StoreEventListener): void {
    this.listeners.push(listener);
  }

  /** Records an Event and hands it to listeners (webhook delivery). */
  emit(type: string, object: unknown, previous?: Record<string, unknown>): StripeEventObject {
    const event: StripeEventObject = {
      id: newId("evt"),
      object: "event",
      api_version: STRIPE_API_VERSION,
      created: this.nowSec(),
      // A snapshot, so later changes to the object do not rewrite the announced state.
      data:
        previous === undefined
          ? { object: structuredClone(object) }
          : { object: structuredClone(object), previous_attributes: previous },
      livemode: false,
      pending_webhooks: this.listeners.length,
      request: { id: null, idempotency_key: null },
      type,
    };
    this.events.push(event);
    for (const l of this.listeners) l(event);
    return event;
  }

  customer(id: string, param = "customer", status = 400): CustomerObject {
    const c = this.customers.get(id);
    if (c === undefined) throw StripeApiError.noSuch("customer", id, param, status);
    return c;
  }

  price(id: string, param = "price", status = 400): PriceObject {
    const p = this.prices.get(id);
    if (p === undefined) throw StripeApiError.noSuch("price", id, param, status);
    return p;
  }

  subscription(id: string, status = 404): SubscriptionObject {
    const s = this.subscriptions.get(id);
    if (s === undefined) throw StripeApiError.noSuch("subscription", id, "id", status);
    return s;
  }

  invoice(id: string, param = "id", status = 404): InvoiceObject {
    const i = this.invoices.get(id);
    if (i === undefined) throw StripeApiError.noSuch("invoice", id, param, status);
    return i;
  }

  /** The price changes recorded for one subscription, oldest first. */
  subscriptionHistory(subscriptionId: string): PriceChange[] {
    return this.priceChanges.filter((c) => c.subscription === subscriptionId);
  }

  newInvoice(customer: string, fields: Partial<InvoiceObject>): InvoiceObject {
    const now = this.nowSec();
    const id = newId("in");
    const invoice: InvoiceObject = {
      id,
      object: "invoice",
      amount_due: 0,
      amount_paid: 0,
      amount_remaining: 0,
      attempt_count: 0,
      attempted: false,
      auto_advance: true,
      automatically_finalizes_at: now + 3600,
      billing_reason: "manual",
      collection_method: "charge_automatically",
      created: now,
      currency: "usd",
      customer,
      description: null,
      discounts: [],
      due_date: null,
      lines: { object: "list", data: [], has_more: false, total_count: 0, url: `/v1/invoices/${id}/lines` },
      livemode: false,
      metadata: {},
      next_payment_attempt: null,
      number: null,
      parent: null,
      period_end: now,
      period_start: now,
      status: "draft",
      status_transitions: {
        finalized_at: null,
        marked_uncollectible_at: null,
        paid_at: null,
        voided_at: null,
      },
      subtotal: 0,
      total: 0,
      total_discount_amounts: [],
      webhooks_delivered_at: null,
      ...fields,
    };
    this.invoices.set(id, invoice);
    return invoice;
  }

  /** Recomputes subtotal, discounts and totals from the lines (percent and amount coupons). */
  recompute(invoice: InvoiceObject): void {
    const lines = invoice.lines.data;
    const subtotal = lines.reduce((s, l) => s + l.amount, 0);
    const discountable = Math.max(
      0,
      lines.filter((l) => l.discountable).reduce((s, l) => s + l.amount, 0),
    );
    let remaining = discountable;
    const amounts: Array<{ amount: number; discount: string }> = [];
    for (const couponId of invoice.discounts) {
      const coupon = this.coupons.get(couponId);
      if (coupon === undefined) continue;
      const off =
        coupon.percent_off !== null
          ? Math.round((remaining * coupon.percent_off) / 100)
          : Math.min(remaining, coupon.amount_off ?? 0);
      remaining -= off;
      amounts.push({ amount: off, discount: couponId });
    }
    const discount = discountable - remaining;
    invoice.subtotal = subtotal;
    invoice.total_discount_amounts = amounts;
    invoice.total = subtotal - discount;
    invoice.amount_due = Math.max(0, invoice.total);
    invoice.amount_remaining =
      invoice.status === "paid" ? 0 : Math.max(0, invoice.amount_due - invoice.amount_paid);
    invoice.lines.total_count = lines.length;
  }

  addLineFromItem(invoice: InvoiceObject, item: InvoiceItemObject): void {
    const line: InvoiceLineObject = {
      id: newId("il"),
      object: "line_item",
      amount: item.amount,
      currency: item.currency,
      description: item.description,
      discountable: item.discountable,
      discounts: [],
      invoice: invoice.id,
      livemode: false,
      metadata: item.metadata,
      parent: {
        type: "invoice_item_details",
        invoice_item_details: { invoice_item: item.id, proration: item.proration, subscription: null },
        subscription_item_details: null,
      },
      period: item.period,
      pricing: item.pricing,
      quantity: item.quantity,
      subscription: null,
      subtotal: item.amount,
    };
    invoice.lines.data.push(line);
    this.recompute(invoice);
  }

  /**
   * Builds the draft invoice Stripe creates at the end of a subscription period: one usage
   * line per metered price that was active in the period. Under flexible billing every price
   * the item had in the period bills its own usage; under classic billing usage recorded
   * before a mid-period swap is lost, as on Stripe. Emits `invoice.created`.
   */
  createDraftInvoiceForSubscription(subscriptionId: string, periodEndSec?: number): InvoiceObject {
    const sub = this.subscription(subscriptionId);
    const first = sub.items.data[0];
    const start = first?.current_period_start ?? sub.start_date;
    const end = periodEndSec ?? first?.current_period_end ?? this.nowSec();
    const invoice = this.newInvoice(sub.customer, {
      billing_reason: "subscription_cycle",
      currency: sub.currency,
      parent: {
        type: "subscription_details",
        subscription_details: { subscription: sub.id, metadata: sub.metadata },
      },
      period_start: start,
      period_end: end,
    });
    for (const item of sub.items.data) {
      for (const seg of this.priceSegments(sub, item, start, end)) {
        const price = this.prices.get(seg.price);
        if (
          price === undefined ||
          price.recurring?.usage_type !== "metered" ||
          price.recurring.meter === null
        )
          continue;
        const meter = this.meters.get(price.recurring.meter);
        if (meter === undefined) continue;
        const quantity =
          this.meterEvents.summarize(meter, sub.customer, seg.start, seg.end, null)[0]?.value ?? 0;
        const amount = amountFor(price, quantity);
        invoice.lines.data.push({
          id: newId("il"),
          object: "line_item",
          amount,
          currency: price.currency,
          description: `${quantity} × ${price.nickname ?? price.id}`,
          discountable: true,
          discounts: [],
          invoice: invoice.id,
          livemode: false,
          metadata: {},
          parent: {
            type: "subscription_item_details",
            invoice_item_details: null,
            subscription_item_details: { subscription: sub.id, subscription_item: item.id, proration: false },
          },
          period: { start: seg.start, end: seg.end },
          pricing: {
            type: "price_details",
            price_details: { price: price.id, product: price.product },
            unit_amount_decimal: price.unit_amount_decimal,
          },
          quantity,
          subscription: sub.id,
          subtotal: amount,
        });
      }
    }
    // Pending invoice items of the customer land on the subscription's next invoice.
    for (const ii of this.invoiceItems.values()) {
      if (ii.invoice === null && ii.customer === sub.customer) {
        ii.invoice = invoice.id;
        this.addLineFromItem(invoice, ii);
      }
    }
    sub.latest_invoice = invoice.id;
    this.recompute(invoice);
    this.emit("invoice.created", invoice);
    return invoice;
  }

  /** The prices an item had during [start, end), from the recorded swaps. */
  private priceSegments(
    sub: SubscriptionObject,
    item: SubscriptionItemObject,
    start: number,
    end: number,
  ): Array<{ price: string; start: number; end: number }> {
    const changes = this.priceChanges.filter((c) => c.item === item.id && c.at > start && c.at < end);
    if (changes.length === 0) return [{ price: item.price.id, start, end }];
    const last = changes[changes.length - 1] as PriceChange;
    if (sub.billing_mode.type === "classic") return [{ price: item.price.id, start: last.at, end }];
    const segments: Array<{ price: string; start: number; end: number }> = [];
    let segStart = start;
    for (const c of changes) {
      if (c.fromPrice !== null) segments.push({ price: c.fromPrice, start: segStart, end: c.at });
      segStart = c.at;
    }
    segments.push({ price: item.price.id, start: segStart, end });
    return segments;
  }

  finalizeInvoice(id: string, autoAdvance?: boolean): InvoiceObject {
    const invoice = this.invoice(id);
    if (invoice.status !== "draft") {
      throw StripeApiError.invalid(
        `This invoice is already finalized, you can't re-finalize a non-draft invoice.`,
        undefined,
        "invoice_not_editable",
      );
    }
    this.invoiceCounter += 1;
    invoice.status = "open";
    invoice.number = `EMU-${String(this.invoiceCounter).padStart(4, "0")}`;
    invoice.status_transitions.finalized_at = this.nowSec();
    invoice.automatically_finalizes_at = null;
    if (autoAdvance !== undefined) invoice.auto_advance = autoAdvance;
    this.recompute(invoice);
    this.emit("invoice.finalized", invoice);
    return invoice;
  }

  /** Marks an invoice paid (finalizing a draft first) and emits `invoice.paid`. */
  payInvoice(id: string): InvoiceObject {
    const invoice = this.invoice(id);
    if (invoice.status === "draft") this.finalizeInvoice(id);
    if (invoice.status === "paid")
      throw StripeApiError.invalid("Invoice is already paid", undefined, "invoice_already_paid");
    if (invoice.status !== "open")
      throw StripeApiError.invalid(`You cannot pay an invoice with status ${invoice.status}.`);
    invoice.attempted = true;
    invoice.attempt_count += 1;
    invoice.status = "paid";
    invoice.amount_paid = invoice.amount_due;
    invoice.amount_remaining = 0;
    invoice.next_payment_attempt = null;
    invoice.status_transitions.paid_at = this.nowSec();
    this.emit("invoice.paid", invoice);
    const sub = this.subscriptionOf(invoice);
    if (sub !== undefined && sub.status === "past_due") {
      sub.status = "active";
      this.emit("customer.subscription.updated", sub, { status: "past_due" });
    }
    return invoice;
  }

  /** A failed payment attempt: `invoice.payment_failed`, and the subscription goes past due. */
  failPayment(id: string): InvoiceObject {
    const invoice = this.invoice(id);
    if (invoice.status === "draft") this.finalizeInvoice(id);
    if (invoice.status !== "open")
      throw StripeApiError.invalid(`You cannot pay an invoice with status ${invoice.status}.`);
    invoice.attempted = true;
    invoice.attempt_count += 1;
    invoice.next_payment_attempt = this.nowSec() + 3 * 86_400;
    this.emit("invoice.payment_failed", invoice);
    const sub = this.subscriptionOf(invoice);
    if (sub !== undefined && sub.status === "active") {
      sub.status = "past_due";
      this.emit("customer.subscription.updated", sub, { status: "active" });
    }
    return invoice;
  }

  private subscriptionOf(invoice: InvoiceObject): SubscriptionObject | undefined {
    const subId = invoice.parent?.subscription_details.subscription;
    return subId === undefined ? undefined : this.subscriptions.get(subId);
  }
}
