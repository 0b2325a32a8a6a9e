import { MeterEventLedger } from "./meter-event.ledger";
import { newId } from "./stripe.ids";
import type {
  CouponObject,
  CreditNoteObject,
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
import { nextPeriodEnd } from "./stripe-billing-cycle";
import { amountFor } from "./stripe-pricing";

export const STRIPE_API_VERSION = "2026-10-28.clover";

export type StoreEventListener = (event: StripeEventObject) => void;

/** Stripe's default finalization grace: a draft finalizes about an hour after it was cut. */
export const DEFAULT_FINALIZATION_GRACE_SEC = 3600;

/** What a subscription invoice's metered lines are computed from, until it is finalized. */
interface DraftSource {
  subscription: string;
  start: number;
  end: number;
}

const BILLING = new Set(["active", "past_due", "trialing"]);

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
  readonly creditNotes = new Map<string, CreditNoteObject>();
  /** Active meters by `event_name`: the meter-event path resolves its meter in O(1). */
  readonly metersByEventName = new Map<string, MeterObject>();
  readonly pricesByLookupKey = new Map<string, PriceObject>();
  readonly meterEvents = new MeterEventLedger();
  /** Every price change on a subscription item, oldest first (swaps are history, not edits). */
  readonly priceChanges: PriceChange[] = [];
  readonly events: StripeEventObject[] = [];
  private readonly listeners: StoreEventListener[] = [];
  private invoiceCounter = 0;
  private creditNoteCounter = 0;
  private offsetMs = 0;
  /** Earliest time (s) a period ends or a draft finalizes; `tick` is O(1) before it. */
  private nextDue = Number.NEGATIVE_INFINITY;
  private ticking = false;
  private readonly draftSources = new Map<string, DraftSource>();
  private readonly lineIds = new Map<string, string>();
  /** Finalization grace in seconds (Stripe: 1 h by default, up to 72 h in Billing settings). */
  finalizationGraceSec = DEFAULT_FINALIZATION_GRACE_SEC;

  constructor(private readonly baseNow: () => number) {}

  /** The emulator clock in ms: the `now` option plus whatever tests advanced it by. */
  now(): number {
    return this.baseNow() + this.offsetMs;
  }

  nowSec(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Moves the emulator clock forward and runs what Stripe would have done meanwhile. */
  advanceClock(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error("the clock only moves forward");
    this.offsetMs += ms;
    this.tick();
  }

  /** Sets the clock to `ms` (never backwards) and runs the billing cycle up to it. */
  setClock(ms: number): void {
    const now = this.now();
    if (ms < now) throw new Error(`the clock only moves forward (now ${new Date(now).toISOString()})`);
    this.advanceClock(ms - now);
  }

  /** Something changed that may bring a period end or finalization forward. */
  reschedule(): void {
    this.nextDue = Number.NEGATIVE_INFINITY;
  }

  /**
   * Runs, in time order, everything Stripe does on its own up to now: at each period end a
   * subscription's draft invoice is cut (`invoice.created`) and its next period starts; a
   * draft with `auto_advance` finalizes once its grace has passed. Called before every request,
   * so moving the clock (the `now` option or `advanceClock`) is enough to move through months.
   */
  tick(): void {
    const now = this.nowSec();
    if (now < this.nextDue || this.ticking) return;
    this.ticking = true;
    try {
      for (;;) {
        const due = this.earliestDue();
        if (due === null || due.at > now) {
          this.nextDue = due?.at ?? Number.POSITIVE_INFINITY;
          return;
        }
        due.run();
      }
    } finally {
      this.ticking = false;
    }
  }

  private earliestDue(): { at: number; run: () => void } | null {
    let best: { at: number; run: () => void } | null = null;
    for (const sub of this.subscriptions.values()) {
      if (!BILLING.has(sub.status)) continue;
      const item = sub.items.data[0];
      if (item === undefined) continue;
      const at = item.current_period_end;
      if (best === null || at < best.at) best = { at, run: () => this.cycleSubscription(sub.id) };
    }
    for (const inv of this.invoices.values()) {
      if (inv.status !== "draft" || !inv.auto_advance || inv.automatically_finalizes_at === null) continue;
      const at = inv.automatically_finalizes_at;
      if (best === null || at < best.at) best = { at, run: () => this.finalizeInvoice(inv.id) };
    }
    return best;
  }

  /** A period ended: cut its draft invoice, then start the next period (or end the subscription). */
  private cycleSubscription(subscriptionId: string): void {
    const sub = this.subscription(subscriptionId);
    const item = sub.items.data[0] as SubscriptionItemObject;
    const end = item.current_period_end;
    this.createDraftInvoiceForSubscription(sub.id, end);
    if (sub.cancel_at !== null && sub.cancel_at <= end) {
      sub.status = "canceled";
      sub.canceled_at = end;
      sub.ended_at = end;
      this.emit("customer.subscription.deleted", sub);
      return;
    }
    this.emit("customer.subscription.updated", sub, {
      items: { data: [{ current_period_start: item.current_period_start, current_period_end: end }] },
    });
  }

  /** Moves every item of `sub` to the period starting at `start`. */
  startPeriod(sub: SubscriptionObject, start: number): void {
    const anchorDay = sub.billing_cycle_anchor_config?.day_of_month;
    for (const it of sub.items.data) {
      const rec = it.price.recurring;
      it.current_period_start = start;
      it.current_period_end = nextPeriodEnd(
        sub.billing_cycle_anchor,
        start,
        rec?.interval ?? "month",
        rec?.interval_count ?? 1,
        anchorDay,
      );
    }
    this.reschedule();
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
      automatically_finalizes_at: now + this.finalizationGraceSec,
      billing_reason: "manual",
      collection_method: "charge_automatically",
      created: now,
      currency: "usd",
      customer,
      description: null,
      discounts: [],
      due_date: null,
      ending_balance: null,
      lines: { object: "list", data: [], has_more: false, total_count: 0, url: `/v1/invoices/${id}/lines` },
      livemode: false,
      metadata: {},
      next_payment_attempt: null,
      number: null,
      parent: null,
      period_end: now,
      period_start: now,
      post_payment_credit_notes_amount: 0,
      pre_payment_credit_notes_amount: 0,
      starting_balance: 0,
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
    this.reschedule();
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
    // Balance applied at finalization (negative = credit used), then pre-payment credit notes.
    const applied = invoice.ending_balance === null ? 0 : invoice.starting_balance - invoice.ending_balance;
    invoice.amount_due = Math.max(0, invoice.total + applied - invoice.pre_payment_credit_notes_amount);
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
   * Cuts the draft invoice Stripe creates at the end of a subscription period, for
   * [current period start, `periodEndSec` or the period end), and starts the next period there
   * (so a later cycle never bills the same usage twice). Its metered lines are computed from
   * meter usage and recomputed on every read until it is finalized (`refreshDraft`). Pending
   * invoice items of the customer land on it. Emits `invoice.created`.
   */
  createDraftInvoiceForSubscription(subscriptionId: string, periodEndSec?: number): InvoiceObject {
    const sub = this.subscription(subscriptionId);
    const first = sub.items.data[0];
    const start = first?.current_period_start ?? sub.start_date;
    const end = periodEndSec ?? first?.current_period_end ?? this.nowSec();
    return this.cutSubscriptionInvoice(sub, start, end, "subscription_cycle");
  }

  cutSubscriptionInvoice(
    sub: SubscriptionObject,
    start: number,
    end: number,
    reason: InvoiceObject["billing_reason"],
  ): InvoiceObject {
    const created = Math.min(end, this.nowSec());
    const invoice = this.newInvoice(sub.customer, {
      billing_reason: reason,
      created,
      automatically_finalizes_at: created + this.finalizationGraceSec,
      currency: sub.currency,
      parent: {
        type: "subscription_details",
        subscription_details: { subscription: sub.id, metadata: sub.metadata },
      },
      period_start: start,
      period_end: end,
    });
    this.draftSources.set(invoice.id, { subscription: sub.id, start, end });
    // Pending invoice items of the customer land on the subscription's next invoice.
    for (const ii of this.invoiceItems.values()) {
      if (ii.invoice === null && ii.customer === sub.customer && (ii.subscription ?? sub.id) === sub.id) {
        ii.invoice = invoice.id;
        this.addLineFromItem(invoice, ii);
      }
    }
    sub.latest_invoice = invoice.id;
    if (sub.items.data.length > 0) this.startPeriod(sub, end);
    this.refreshDraft(invoice);
    this.emit("invoice.created", invoice);
    return invoice;
  }

  /**
   * Recomputes a draft subscription invoice's metered lines from the meter usage of its period
   * (late events, cancelled events and swaps included), keeping line ids stable. Finalized
   * invoices never change. Invoice-item lines are kept as they are.
   */
  refreshDraft(invoice: InvoiceObject): void {
    if (invoice.status !== "draft") return;
    const source = this.draftSources.get(invoice.id);
    if (source === undefined) return;
    const sub = this.subscriptions.get(source.subscription);
    if (sub === undefined) return;
    const lines: InvoiceLineObject[] = [];
    for (const itemId of this.itemsOf(sub.id, source.end)) {
      for (const seg of this.priceSegments(sub, itemId, source.start, source.end)) {
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
        const key = `${invoice.id}|${itemId}|${price.id}|${seg.start}`;
        let id = this.lineIds.get(key);
        if (id === undefined) {
          id = newId("il");
          this.lineIds.set(key, id);
        }
        lines.push({
          id,
          object: "line_item",
          amount,
          currency: price.currency,
          description: `${quantity} × ${price.nickname ?? this.products.get(price.product)?.name ?? price.id}`,
          discountable: true,
          discounts: [],
          invoice: invoice.id,
          livemode: false,
          metadata: {},
          parent: {
            type: "subscription_item_details",
            invoice_item_details: null,
            subscription_item_details: { subscription: sub.id, subscription_item: itemId, proration: false },
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
    invoice.lines.data = [
      ...lines,
      ...invoice.lines.data.filter((l) => l.parent.type !== "subscription_item_details"),
    ];
    this.recompute(invoice);
  }

  /** Refreshes a draft before it is shown (GET, list, update): Stripe keeps drafts current. */
  current(invoice: InvoiceObject): InvoiceObject {
    this.refreshDraft(invoice);
    return invoice;
  }

  /** The subscription's items that existed before `end`, in the order they were added. */
  private itemsOf(subscriptionId: string, end: number): string[] {
    const ids: string[] = [];
    for (const c of this.priceChanges)
      if (c.subscription === subscriptionId && c.at < end && !ids.includes(c.item)) ids.push(c.item);
    return ids;
  }

  /**
   * The prices an item had during [start, end), from its recorded history. Under flexible
   * billing every price bills the usage of its own time segment; under classic billing usage
   * recorded before the last mid-period swap is lost, as on Stripe.
   */
  private priceSegments(
    sub: SubscriptionObject,
    itemId: string,
    start: number,
    end: number,
  ): Array<{ price: string; start: number; end: number }> {
    const history = this.priceChanges.filter((c) => c.item === itemId);
    const segments: Array<{ price: string; start: number; end: number }> = [];
    let price: string | null = null;
    let segStart = start;
    let lastSwap: number | null = null;
    for (const c of history) {
      if (c.at >= end) break;
      if (c.at <= start) {
        price = c.toPrice;
        continue;
      }
      if (price !== null) segments.push({ price, start: segStart, end: c.at });
      if (c.fromPrice !== null && c.toPrice !== null) lastSwap = c.at;
      price = c.toPrice;
      segStart = c.at;
    }
    if (price !== null) segments.push({ price, start: segStart, end });
    if (sub.billing_mode.type === "classic" && lastSwap !== null) {
      return segments.filter((g) => g.start >= lastSwap);
    }
    return segments;
  }

  /** `payZero=false` is for the failPayment helper: a test may fail even a $0 invoice. */
  finalizeInvoice(id: string, autoAdvance?: boolean, payZero = true): InvoiceObject {
    const invoice = this.invoice(id);
    if (invoice.status !== "draft") {
      throw StripeApiError.invalid(
        `This invoice is already finalized, you can't re-finalize a non-draft invoice.`,
        undefined,
        "invoice_not_editable",
      );
    }
    this.refreshDraft(invoice);
    this.draftSources.delete(invoice.id);
    this.invoiceCounter += 1;
    invoice.status = "open";
    invoice.number = `EMU-${String(this.invoiceCounter).padStart(4, "0")}`;
    invoice.status_transitions.finalized_at = this.nowSec();
    invoice.automatically_finalizes_at = null;
    if (autoAdvance !== undefined) invoice.auto_advance = autoAdvance;
    this.recompute(invoice);
    // The customer's balance is applied now: a credit (negative balance) pays part of the
    // invoice; a negative total becomes credit for the next invoice.
    const customer = this.customers.get(invoice.customer);
    if (customer !== undefined) {
      const start = customer.balance;
      const total = invoice.total;
      let end: number;
      if (total < 0) end = start + total;
      else if (start < 0) end = start + Math.min(-start, total);
      else end = 0;
      invoice.starting_balance = start;
      invoice.ending_balance = end;
      customer.balance = end;
    }
    this.recompute(invoice);
    this.reschedule();
    this.emit("invoice.finalized", invoice);
    // Stripe marks an invoice with nothing to collect paid at once.
    if (invoice.amount_due === 0 && payZero) this.markPaid(invoice);
    return invoice;
  }

  private markPaid(invoice: InvoiceObject): void {
    invoice.attempted = true;
    invoice.status = "paid";
    invoice.amount_paid = invoice.amount_due;
    invoice.amount_remaining = 0;
    invoice.next_payment_attempt = null;
    invoice.status_transitions.paid_at = this.nowSec();
    this.emit("invoice.paid", invoice);
  }

  /** Marks an invoice paid (finalizing a draft first) and emits `invoice.paid`. */
  payInvoice(id: string): InvoiceObject {
    const invoice = this.invoice(id);
    if (invoice.status === "draft") {
      this.finalizeInvoice(id);
      if ((invoice.status as InvoiceObject["status"]) === "paid") return invoice;
    }
    if (invoice.status === "paid")
      throw StripeApiError.invalid("Invoice is already paid", undefined, "invoice_already_paid");
    if (invoice.status !== "open")
      throw StripeApiError.invalid(`You cannot pay an invoice with status ${invoice.status}.`);
    invoice.attempt_count += 1;
    this.markPaid(invoice);
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
    if (invoice.status === "draft") this.finalizeInvoice(id, undefined, false);
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

  /**
   * Issues a credit note on a finalized invoice. On an open invoice it lowers what is due
   * (pre-payment; an invoice credited to zero is paid); on a paid invoice it credits the
   * customer's balance, which the next invoice uses at finalization (post-payment).
   */
  issueCreditNote(
    invoice: InvoiceObject,
    amount: number,
    fields: Pick<CreditNoteObject, "memo" | "metadata" | "reason" | "lines">,
  ): CreditNoteObject {
    if (invoice.status !== "open" && invoice.status !== "paid") {
      throw StripeApiError.invalid(
        `You can only create a credit note for an invoice that is open or paid; invoice ${invoice.id} is ${invoice.status}.`,
        "invoice",
      );
    }
    const credited = invoice.pre_payment_credit_notes_amount + invoice.post_payment_credit_notes_amount;
    const creditable = Math.max(0, invoice.total - credited);
    if (amount <= 0) throw StripeApiError.invalid("The credit note amount must be greater than 0.", "amount");
    if (amount > creditable) {
      throw StripeApiError.invalid(
        `The credit note amount (${amount}) exceeds the amount that can still be credited on invoice ${invoice.id} (${creditable}).`,
        "amount",
      );
    }
    const pre = invoice.status === "open" ? Math.min(amount, invoice.amount_remaining) : 0;
    const post = amount - pre;
    this.creditNoteCounter += 1;
    const note: CreditNoteObject = {
      id: newId("cn"),
      object: "credit_note",
      amount,
      amount_shipping: 0,
      created: this.nowSec(),
      currency: invoice.currency,
      customer: invoice.customer,
      customer_balance_transaction: post > 0 ? newId("cbtxn") : null,
      discount_amount: 0,
      discount_amounts: [],
      effective_at: this.nowSec(),
      invoice: invoice.id,
      lines: fields.lines,
      livemode: false,
      memo: fields.memo,
      metadata: fields.metadata,
      number: `${invoice.number ?? "EMU"}-CN-${String(this.creditNoteCounter).padStart(2, "0")}`,
      out_of_band_amount: null,
      pdf: "",
      post_payment_amount: post,
      pre_payment_amount: pre,
      reason: fields.reason,
      refunds: [],
      status: "issued",
      subtotal: amount,
      total: amount,
      type: post === 0 ? "pre_payment" : pre === 0 ? "post_payment" : "mixed",
      voided_at: null,
    };
    this.creditNotes.set(note.id, note);
    invoice.pre_payment_credit_notes_amount += pre;
    invoice.post_payment_credit_notes_amount += post;
    if (post > 0) {
      const customer = this.customers.get(invoice.customer);
      if (customer !== undefined) customer.balance -= post;
    }
    this.recompute(invoice);
    this.emit("credit_note.created", note);
    if (invoice.status === "open" && invoice.amount_remaining === 0) this.markPaid(invoice);
    return note;
  }

  private subscriptionOf(invoice: InvoiceObject): SubscriptionObject | undefined {
    const subId = invoice.parent?.subscription_details.subscription;
    return subId === undefined ? undefined : this.subscriptions.get(subId);
  }
}
