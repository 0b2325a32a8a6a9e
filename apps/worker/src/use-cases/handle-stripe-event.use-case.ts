import {
  discountCents,
  discountFor,
  isUsageCategory,
  monthOf,
  monthRange,
  nextMonth,
  USAGE_CATEGORIES,
  wholeSparks,
} from "@sparks/core";
import {
  CustomerMonthCloseRepository,
  type CustomerRow,
  type UsageGroup,
  UsageItemRepository,
  UsageReportRepository,
  WebhookEventRepository,
} from "@sparks/db";
import { jobId, PermanentJobError, RetryableJobError } from "@sparks/queues";
import { HOLD_METADATA_KEY, type InvoiceService, type InvoiceState } from "@sparks/stripe";
import type { WorkerDeps } from "../worker-deps";
import { clock, enqueuePush } from "./pipeline-context";
import { monthHoldReason, releaseMonthInvoice } from "./release-month-invoice.use-case";

export interface StripeEventOutcome {
  /** What the event led to, e.g. `tier_updated`, `paused`, `discount_applied`, `ignored`. */
  action: string;
  /** Why, for the webhook log (kept in `webhook_events.error` of a processed event). */
  note: string | null;
  details?: Record<string, unknown>;
}

const SUBSCRIPTION_EVENTS = new Set([
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "customer.subscription.paused",
  "customer.subscription.resumed",
]);
const PAYMENT_EVENTS = new Set(["invoice.payment_failed", "invoice.paid", "invoice.payment_succeeded"]);
/** Subscription states in which the customer has no paid plan any more. */
const ENDED = new Set(["canceled", "incomplete_expired"]);

function stringField(object: Record<string, unknown>, key: string): string | null {
  const value = object[key];
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && typeof (value as { id?: unknown }).id === "string") {
    return (value as { id: string }).id;
  }
  return null;
}

function dataObject(payload: unknown): Record<string, unknown> {
  const data = (payload as { data?: { object?: unknown } } | null)?.data?.object;
  if (typeof data !== "object" || data === null) throw new PermanentJobError("event has no data.object");
  return data as Record<string, unknown>;
}

/** The UTC months an invoice period [start, end) touches. */
function monthsOf(start: Date, end: Date): string[] {
  const months: string[] = [];
  let month = monthOf(start);
  const last = monthOf(new Date(Math.max(start.getTime(), end.getTime() - 1)));
  for (;;) {
    months.push(month);
    if (month >= last) return months;
    month = nextMonth(month);
  }
}

const ignored = (note: string): StripeEventOutcome => ({ action: "ignored", note });

/**
 * Applies one stored Stripe event. Every handler re-reads the current state from Stripe
 * instead of trusting the event's snapshot, so repeated and out-of-order deliveries converge
 * on Stripe's present state, and running an event twice changes nothing the second time.
 */
export class HandleStripeEventUseCase {
  private readonly events: WebhookEventRepository;
  private readonly report: UsageReportRepository;
  private readonly items: UsageItemRepository;
  private readonly monthCloses: CustomerMonthCloseRepository;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly stripe: InvoiceService,
  ) {
    this.events = new WebhookEventRepository(deps.database.db);
    this.report = new UsageReportRepository(deps.database.db);
    this.items = new UsageItemRepository(deps.database.db);
    this.monthCloses = new CustomerMonthCloseRepository(deps.database.db);
  }

  async handle(eventId: string): Promise<StripeEventOutcome> {
    const row = await this.events.findById(eventId);
    if (!row) throw new PermanentJobError(`webhook event ${eventId} is not stored`);
    if (row.status === "processed") return { action: "already_processed", note: row.error };
    const object = dataObject(row.payload);
    if (SUBSCRIPTION_EVENTS.has(row.type)) {
      const id = stringField(object, "id");
      if (!id) throw new PermanentJobError(`${row.type}: data.object.id is missing`);
      return this.syncSubscription(id);
    }
    if (PAYMENT_EVENTS.has(row.type)) {
      const customer = stringField(object, "customer");
      const invoiceId = stringField(object, "id");
      if (!customer || !invoiceId) throw new PermanentJobError(`${row.type}: invoice id or customer missing`);
      // Re-read, as every handler does: the report shows the invoice's present status.
      const invoice = await this.stripe.retrieveInvoice(invoiceId);
      if (invoice.status) await this.monthCloses.updateInvoiceStatus(invoiceId, invoice.status);
      return this.syncPaymentState(customer, row.type === "invoice.payment_failed" ? invoiceId : null);
    }
    if (row.type === "invoice.created") {
      const id = stringField(object, "id");
      if (!id) throw new PermanentJobError("invoice.created: data.object.id is missing");
      return this.onInvoiceCreated(id);
    }
    return ignored(`event type ${row.type} is not handled`);
  }

  private async customerOf(stripeCustomerId: string): Promise<CustomerRow | null> {
    return this.events.findCustomerByStripeId(stripeCustomerId);
  }

  /**
   * Tier from the subscription's current prices (lookup keys), whatever the event said. A
   * canceled subscription leaves the customer on `free`; events of a subscription that is not
   * the customer's current one (an old, replaced one) are ignored.
   */
  private async syncSubscription(subscriptionId: string): Promise<StripeEventOutcome> {
    const sub = await this.stripe.retrieveSubscription(subscriptionId);
    const customer = await this.customerOf(sub.customer);
    if (!customer) return ignored(`no Sparks customer for ${sub.customer}`);
    if (customer.stripeSubscriptionId && customer.stripeSubscriptionId !== sub.id) {
      return ignored(`${sub.id} is not the current subscription (${customer.stripeSubscriptionId})`);
    }
    const tier = ENDED.has(sub.status) ? "free" : sub.tier;
    if (tier === null) {
      return ignored(`prices of ${sub.id} name no single Sparks tier (${sub.lookupKeys.join(", ")})`);
    }
    const changed = await this.events.applyTier(customer.id, tier, clock(this.deps));
    return {
      action: changed ? "tier_updated" : "unchanged",
      note: null,
      details: { tier, subscription_status: sub.status },
    };
  }

  /**
   * Paused while any open invoice of the customer has a failed payment attempt; resumed when
   * none is left. Both payment events run the same re-read, so their order does not matter and
   * two failed invoices need two payments before usage resumes.
   */
  private async syncPaymentState(
    stripeCustomerId: string,
    failedInvoiceId: string | null,
  ): Promise<StripeEventOutcome> {
    const customer = await this.customerOf(stripeCustomerId);
    if (!customer) return ignored(`no Sparks customer for ${stripeCustomerId}`);
    const unpaid = await this.stripe.unpaidAttemptedInvoices(stripeCustomerId);
    if (unpaid.length > 0) {
      const changed = await this.events.setPaymentPause(customer.id, true);
      const notify = failedInvoiceId !== null && unpaid.some((i) => i.id === failedInvoiceId);
      if (notify && failedInvoiceId) {
        await this.deps.queues.add(
          "alerts",
          {
            kind: "payment_failed",
            dedupeKey: `payment_failed:${failedInvoiceId}`,
            customerId: customer.id,
            title: "Payment failed: usage paused",
            text: `A payment for invoice ${failedInvoiceId} failed; usage of ${customer.id} is paused until it is paid.`,
            data: { invoice_id: failedInvoiceId, stripe_customer_id: stripeCustomerId },
          },
          { jobId: jobId("alert", "payment_failed", failedInvoiceId) },
        );
      }
      return {
        action: changed ? "paused" : "still_paused",
        note: null,
        details: { unpaid: unpaid.map((i) => i.id) },
      };
    }
    const resumed = await this.events.setPaymentPause(customer.id, false);
    return { action: resumed ? "resumed" : "unchanged", note: null };
  }

  /**
   * A new draft subscription invoice. One whose period ends at a month boundary (subscriptions
   * are anchored to the 1st) is held (`auto_advance=false`) until Sparks has closed that month
   * for that customer; the month close then computes the discount, checks the total and
   * releases it (`releaseMonthInvoice`). If the close already happened (a late or repeated
   * delivery), the release runs now. Repeated deliveries and events of invoices that are no
   * longer drafts change nothing. A period that does not end on the 1st (a subscription created
   * before anchoring) gets the old per-period check.
   */
  private async onInvoiceCreated(invoiceId: string): Promise<StripeEventOutcome> {
    const invoice = await this.stripe.retrieveInvoice(invoiceId);
    if (invoice.status !== "draft") {
      return ignored(
        `invoice ${invoiceId} is ${invoice.status}, not a draft (repeated or late invoice.created)`,
      );
    }
    if (!invoice.subscriptionId) return ignored(`invoice ${invoiceId} is not a subscription invoice`);
    const customer = await this.customerOf(invoice.customer);
    if (!customer) {
      this.deps.logger.warn(
        { invoiceId, stripeCustomerId: invoice.customer },
        "invoice.created for an unknown customer",
      );
      return ignored(`no Sparks customer for ${invoice.customer}`);
    }
    const end = invoice.periodEnd;
    const month = monthOf(new Date(end.getTime() - 1));
    if (monthRange(month).end.getTime() !== end.getTime()) {
      this.deps.logger.warn(
        { invoiceId, periodEnd: end.toISOString() },
        "invoice period does not end on the 1st: the subscription is not anchored (sparks stripe:setup lists them)",
      );
      return this.checkDraftInvoice(invoiceId);
    }
    const reason = monthHoldReason(month);
    if (invoice.autoAdvance) {
      await this.stripe.holdInvoice(invoice.id, reason);
    }
    const closes = new CustomerMonthCloseRepository(this.deps.database.db);
    const state = await closes.find(customer.id, month);
    if (state?.status === "closed") {
      const outcome = await releaseMonthInvoice(this.deps, customer.id, month, invoice.id);
      return {
        action: outcome.action,
        note: "reason" in outcome ? outcome.reason : null,
        details: { invoice_id: invoice.id, month },
      };
    }
    await closes.recordInvoice(customer.id, month, {
      invoiceId: invoice.id,
      invoiceStatus: "draft",
      invoiceTotalCents: invoice.totalCents,
      holdReason: `waiting for the month close of ${month}`,
      atRiskCents: null,
    });
    // Flush what is pending now, so the close finds little left to wait for.
    const groups = (await this.items.groupsWithWork(customer.id)).filter((g) => g.month === month);
    if (groups.length > 0) await enqueuePush(this.deps, groups);
    return {
      action: "held_for_month_close",
      note: null,
      details: { invoice_id: invoice.id, month },
    };
  }

  /**
   * A new draft subscription invoice: flush the customer's pending usage of the period, hold
   * the draft while usage is still on its way, compare Stripe's meter totals with the ledger
   * per category, then either hold + alert (mismatch) or add the volume discount (match).
   */
  private async checkDraftInvoice(invoiceId: string): Promise<StripeEventOutcome> {
    const invoice = await this.stripe.retrieveInvoice(invoiceId);
    if (invoice.status !== "draft") return ignored(`invoice ${invoiceId} is ${invoice.status}, not a draft`);
    if (!invoice.subscriptionId) return ignored(`invoice ${invoiceId} is not a subscription invoice`);
    const customer = await this.customerOf(invoice.customer);
    if (!customer) return ignored(`no Sparks customer for ${invoice.customer}`);

    // Meter summaries only take whole minutes: the ledger is read over the same widened window
    // so both sides count the same events. A zero-length period still covers its minute.
    const start = new Date(Math.floor(invoice.periodStart.getTime() / 60_000) * 60_000);
    const ceilEnd = new Date(Math.ceil(invoice.periodEnd.getTime() / 60_000) * 60_000);
    const end = ceilEnd > start ? ceilEnd : new Date(start.getTime() + 60_000);
    const months = new Set(monthsOf(start, end));
    const groups: UsageGroup[] = (await this.items.groupsWithWork(customer.id)).filter((g) =>
      months.has(g.month),
    );
    if (groups.length > 0) await enqueuePush(this.deps, groups);

    const ledger = await this.report.periodLedger(customer.id, start, end);
    if (ledger.unsentItems > 0) {
      // Not a verdict yet: keep Stripe from finalizing while the flush runs, then try again.
      if (invoice.autoAdvance) await this.stripe.holdInvoice(invoice.id, "pending_usage");
      throw new RetryableJobError(
        `invoice ${invoice.id}: ${ledger.unsentItems} usage items of the period are still being sent`,
      );
    }

    const stripeTotals = await this.stripe.meterTotals(invoice.customer, start, end);
    const categories = new Set<string>([...USAGE_CATEGORIES, ...ledger.sentByCategory.keys()]);
    const mismatches = [...categories]
      .map((category) => ({
        category,
        ledger: ledger.sentByCategory.get(category) ?? 0n,
        stripe: isUsageCategory(category) ? (stripeTotals.get(category) ?? 0n) : 0n,
      }))
      .filter((m) => m.ledger !== m.stripe);
    if (mismatches.length > 0 || ledger.failedItems > 0) {
      return this.holdForMismatch(invoice, customer, mismatches, ledger.failedItems);
    }

    const percent = discountFor(wholeSparks(ledger.exactNano), this.deps.config.billing.discounts).percent;
    let discount: { cents: bigint; itemId: string | null; created: boolean } = {
      cents: 0n,
      itemId: null,
      created: false,
    };
    if (percent !== "0") {
      const cents = discountCents(await this.stripe.usageSubtotalCents(invoice.id), percent);
      if (cents > 0n) {
        const item = await this.stripe.ensureDiscountItem(
          invoice,
          cents,
          `Volume discount ${percent}% (${wholeSparks(ledger.exactNano)} Sparks this period)`,
        );
        discount = { cents, itemId: item.id, created: item.created };
      }
    }
    if (!invoice.autoAdvance && invoice.metadata[HOLD_METADATA_KEY] === "pending_usage") {
      await this.stripe.releaseInvoice(invoice.id);
    }
    return {
      action: discount.itemId ? "discount_applied" : "verified",
      note: null,
      details: {
        invoice_id: invoice.id,
        sparks: wholeSparks(ledger.exactNano).toString(),
        percent,
        discount_cents: discount.cents.toString(),
        discount_item: discount.itemId,
        discount_created: discount.created,
      },
    };
  }

  private async holdForMismatch(
    invoice: InvoiceState,
    customer: CustomerRow,
    mismatches: Array<{ category: string; ledger: bigint; stripe: bigint }>,
    failedItems: number,
  ): Promise<StripeEventOutcome> {
    await this.stripe.holdInvoice(invoice.id, "mismatch");
    const lines = mismatches.map((m) => `${m.category}: ledger sent ${m.ledger}, Stripe has ${m.stripe}`);
    if (failedItems > 0) lines.push(`${failedItems} usage items of the period failed to reach Stripe`);
    const period = `${invoice.periodStart.toISOString()} – ${invoice.periodEnd.toISOString()}`;
    await this.deps.queues.add(
      "alerts",
      {
        kind: "invoice_mismatch",
        dedupeKey: `invoice_mismatch:${invoice.id}`,
        customerId: customer.id,
        title: `Invoice ${invoice.id} held: Stripe and the ledger disagree`,
        text: `Draft invoice ${invoice.id} of ${customer.id} (${period}) is held (auto_advance=false). ${lines.join("; ")}.`,
        data: {
          invoice_id: invoice.id,
          month: monthOf(invoice.periodStart),
          month_start: monthRange(monthOf(invoice.periodStart)).start.toISOString(),
          mismatches: mismatches.map((m) => ({
            category: m.category,
            ledger: m.ledger.toString(),
            stripe: m.stripe.toString(),
          })),
          failed_items: failedItems,
        },
      },
      { jobId: jobId("alert", "invoice_mismatch", invoice.id) },
    );
    return {
      action: "held_mismatch",
      note: lines.join("; "),
      details: { invoice_id: invoice.id },
    };
  }
}
