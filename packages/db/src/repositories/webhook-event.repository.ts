import { and, eq, isNull, sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { type CustomerRow, type CustomerTier, customers, tierHistory } from "../schema/customers.schema";
import { type WebhookEventRow, webhookEvents } from "../schema/webhook-events.schema";

export interface WebhookEventWrite {
  stripeEventId: string;
  type: string;
  created: Date;
  payload: unknown;
}

/**
 * The webhook log (`webhook_events`), kept apart from the Stripe call audit log: one row per
 * Stripe event id, whatever number of times Stripe delivers it, with its processing status.
 * It also applies what a Stripe event changes on a customer (tier, payment pause), so the
 * webhook worker's writes stay in one place.
 */
export class WebhookEventRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  /** Stores a delivery unless the event id is known; `inserted: false` means a duplicate. */
  async insertIfNew(event: WebhookEventWrite): Promise<{ inserted: boolean; row: WebhookEventRow }> {
    const [created] = await this.db
      .insert(webhookEvents)
      .values({
        stripeEventId: event.stripeEventId,
        type: event.type,
        created: event.created,
        payload: event.payload,
      })
      .onConflictDoNothing({ target: webhookEvents.stripeEventId })
      .returning();
    if (created) return { inserted: true, row: created };
    const existing = await this.findById(event.stripeEventId);
    if (!existing) throw new Error(`webhook event ${event.stripeEventId} vanished after a conflict`);
    return { inserted: false, row: existing };
  }

  async findById(stripeEventId: string): Promise<WebhookEventRow | null> {
    const rows = await this.db
      .select()
      .from(webhookEvents)
      .where(eq(webhookEvents.stripeEventId, stripeEventId))
      .limit(1);
    return rows[0] ?? null;
  }

  /** Counts one processing attempt (before running it, so a crash still shows). */
  async recordAttempt(stripeEventId: string): Promise<void> {
    await this.db
      .update(webhookEvents)
      .set({ attempts: sql`${webhookEvents.attempts} + 1` })
      .where(eq(webhookEvents.stripeEventId, stripeEventId));
  }

  /** `note` records why an event needed no change (e.g. "ignored: unknown customer"). */
  async markProcessed(stripeEventId: string, at: Date, note: string | null = null): Promise<void> {
    await this.db
      .update(webhookEvents)
      .set({ status: "processed", processedAt: at, error: note })
      .where(eq(webhookEvents.stripeEventId, stripeEventId));
  }

  /**
   * Records a failed attempt. `final` (no retries left, or not retryable) marks the event
   * `failed`; otherwise it stays `received` with the last error, as BullMQ retries it.
   */
  async recordFailure(stripeEventId: string, error: string, final: boolean): Promise<void> {
    await this.db
      .update(webhookEvents)
      .set(final ? { status: "failed", error } : { error })
      .where(
        and(eq(webhookEvents.stripeEventId, stripeEventId), sql`${webhookEvents.status} <> 'processed'`),
      );
  }

  async findCustomerByStripeId(stripeCustomerId: string): Promise<CustomerRow | null> {
    const rows = await this.db
      .select()
      .from(customers)
      .where(eq(customers.stripeCustomerId, stripeCustomerId))
      .limit(1);
    return rows[0] ?? null;
  }

  /**
   * Moves a customer to `tier` at `at`: the tier column, the open tier_history segment closed
   * and a new one opened (source `webhook`), in one transaction. A customer already on `tier`
   * is left alone (returns false), so a repeated or late event changes nothing.
   */
  async applyTier(customerId: string, tier: CustomerTier, at: Date): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx.select().from(customers).where(eq(customers.id, customerId)).for("update");
      if (!row || row.tier === tier) return false;
      await tx.update(customers).set({ tier }).where(eq(customers.id, customerId));
      await tx
        .update(tierHistory)
        .set({ effectiveTo: at })
        .where(and(eq(tierHistory.customerId, customerId), isNull(tierHistory.effectiveTo)));
      // An enterprise segment carries the negotiated rate its prices bill at (null: the catalog's).
      const rate = tier === "enterprise" ? row.negotiatedRate : null;
      await tx.insert(tierHistory).values({ customerId, tier, effectiveFrom: at, source: "webhook", rate });
      return true;
    });
  }

  /**
   * Pauses (reason set) or resumes (reason null) a customer. Resuming only lifts a pause with
   * the same cause, so a payment event never undoes a pause an operator set for another reason.
   * Returns whether anything changed.
   */
  async setPaymentPause(customerId: string, paused: boolean, reason = "payment_failed"): Promise<boolean> {
    const updated = paused
      ? await this.db
          .update(customers)
          .set({ status: "paused", pauseReason: reason })
          .where(and(eq(customers.id, customerId), sql`${customers.status} <> 'paused'`))
          .returning({ id: customers.id })
      : await this.db
          .update(customers)
          .set({ status: "active", pauseReason: null })
          .where(
            and(
              eq(customers.id, customerId),
              eq(customers.status, "paused"),
              eq(customers.pauseReason, reason),
            ),
          )
          .returning({ id: customers.id });
    return updated.length > 0;
  }
}
