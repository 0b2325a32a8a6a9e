import type Stripe from "stripe";
import { stripeCall } from "./stripe-call";

/** Metadata on every invoice item / credit note a correction creates: its `usage_corrections.key`. */
export const CORRECTION_METADATA_KEY = "sparks_correction";

export const METER_EVENT_ADJUSTMENT_OPERATION = "billing.meter_event_adjustments.create";

export type InvoiceStageName = "open_period" | "draft" | "finalized";

export interface InvoiceStageOf {
  stage: InvoiceStageName;
  /** The invoice covering the moment (draft or finalized); null while the period is open. */
  invoiceId: string | null;
}

export interface CreditInput {
  /** The correction's key: idempotency key and metadata, so a retry never credits twice. */
  key: string;
  stripeCustomerId: string;
  subscriptionId: string | null;
  /** The draft to credit; null: a pending item the period's coming invoice takes in. */
  invoiceId: string | null;
  cents: bigint;
  description: string;
  metadata: Record<string, string>;
}

export interface CreditNoteInput {
  key: string;
  invoiceId: string;
  cents: bigint;
  description: string;
  metadata: Record<string, string>;
}

function isFinal(status: Stripe.Invoice.Status | null): boolean {
  return status === "open" || status === "paid" || status === "uncollectible";
}

/**
 * The Stripe calls that give a shrink back: cancel a meter event (Stripe's meter event
 * adjustment, 24 h window), a negative invoice item, a credit note. Each looks for what an
 * earlier attempt created (by the correction key in metadata: Stripe keeps idempotency keys
 * only 24 h, metadata forever) before creating, and creates under the key as idempotency key.
 */
export class StripeCorrectionService {
  constructor(private readonly stripe: Stripe) {}

  async cancelMeterEvent(eventName: string, identifier: string, key: string): Promise<void> {
    await stripeCall(METER_EVENT_ADJUSTMENT_OPERATION, () =>
      this.stripe.billing.meterEventAdjustments.create(
        { event_name: eventName, type: "cancel", cancel: { identifier } },
        { idempotencyKey: key },
      ),
    );
  }

  /**
   * Where usage at `at` stands: the customer's (non-void) invoice whose period covers it, draft
   * or finalized, or none yet (its period is still open).
   */
  async invoiceStageAt(
    stripeCustomerId: string,
    subscriptionId: string | null,
    at: Date,
  ): Promise<InvoiceStageOf> {
    const t = Math.floor(at.getTime() / 1000);
    return stripeCall("invoices.list", async () => {
      // The invoice of the period covering `at` is cut at that period's end, after `at`: older
      // invoices need not be paged through.
      const params: Stripe.InvoiceListParams = {
        customer: stripeCustomerId,
        created: { gte: t },
        limit: 100,
      };
      if (subscriptionId !== null) params.subscription = subscriptionId;
      for await (const invoice of this.stripe.invoices.list(params)) {
        if (invoice.status === "void") continue;
        const sub = invoice.parent?.subscription_details?.subscription;
        const subId = typeof sub === "string" ? sub : (sub?.id ?? null);
        if (subscriptionId !== null && subId !== null && subId !== subscriptionId) continue;
        if (invoice.period_start <= t && t < invoice.period_end) {
          return { stage: isFinal(invoice.status) ? "finalized" : "draft", invoiceId: invoice.id ?? null };
        }
      }
      return { stage: "open_period", invoiceId: null };
    });
  }

  /** A negative invoice item (on the draft, or pending for the coming invoice); its id. */
  async credit(input: CreditInput): Promise<string> {
    const existing = await stripeCall("invoiceItems.list", async () => {
      const params: Stripe.InvoiceItemListParams = { customer: input.stripeCustomerId, limit: 100 };
      if (input.invoiceId !== null) params.invoice = input.invoiceId;
      for await (const item of this.stripe.invoiceItems.list(params)) {
        if (item.metadata?.[CORRECTION_METADATA_KEY] === input.key) return item.id;
      }
      return null;
    });
    if (existing !== null) return existing;
    const params: Stripe.InvoiceItemCreateParams = {
      customer: input.stripeCustomerId,
      amount: -Number(input.cents),
      currency: "usd",
      description: input.description,
      // The volume discount applies to usage net of credits (the report's rule), not on top.
      discountable: false,
      metadata: { ...input.metadata, [CORRECTION_METADATA_KEY]: input.key },
    };
    if (input.invoiceId !== null) params.invoice = input.invoiceId;
    else if (input.subscriptionId !== null) params.subscription = input.subscriptionId;
    const item = await stripeCall("invoiceItems.create", () =>
      this.stripe.invoiceItems.create(params, { idempotencyKey: input.key }),
    );
    return item.id;
  }

  /**
   * A credit note on a finalized invoice. What exceeds the invoice's amount still due (it was
   * paid) goes to the customer's balance, which Stripe applies to the next invoice.
   */
  async creditNote(input: CreditNoteInput): Promise<string> {
    const existing = await stripeCall("creditNotes.list", async () => {
      for await (const note of this.stripe.creditNotes.list({ invoice: input.invoiceId, limit: 100 })) {
        if (note.metadata?.[CORRECTION_METADATA_KEY] === input.key) return note.id;
      }
      return null;
    });
    if (existing !== null) return existing;
    const invoice = await stripeCall("invoices.retrieve", () =>
      this.stripe.invoices.retrieve(input.invoiceId),
    );
    const remaining = BigInt(invoice.amount_remaining ?? 0);
    const postPayment = input.cents > remaining ? input.cents - remaining : 0n;
    const params: Stripe.CreditNoteCreateParams = {
      invoice: input.invoiceId,
      lines: [
        {
          type: "custom_line_item",
          description: input.description,
          quantity: 1,
          unit_amount: Number(input.cents),
        },
      ],
      metadata: { ...input.metadata, [CORRECTION_METADATA_KEY]: input.key },
    };
    if (postPayment > 0n) params.credit_amount = Number(postPayment);
    const note = await stripeCall("creditNotes.create", () =>
      this.stripe.creditNotes.create(params, { idempotencyKey: input.key }),
    );
    return note.id;
  }
}
