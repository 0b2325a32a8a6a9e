import { and, eq, sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
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
}
