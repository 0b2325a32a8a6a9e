import { check, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { oneOf } from "./check.util";
import { timestamptz } from "./columns.util";

export const WEBHOOK_EVENT_STATUSES = ["received", "processed", "failed"] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

/**
 * Stripe webhook deliveries, keyed by Stripe's event id: a redelivered event hits the
 * primary key and is recognised as a duplicate. `created` (Stripe's time) lets handlers
 * ignore an event older than the state it would overwrite (out-of-order delivery).
 */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    stripeEventId: text("stripe_event_id").primaryKey(),
    type: text("type").notNull(),
    created: timestamptz("created").notNull(),
    payload: jsonb("payload").$type<unknown>().notNull(),
    status: text("status").$type<WebhookEventStatus>().notNull().default("received"),
    attempts: integer("attempts").notNull().default(0),
    error: text("error"),
    receivedAt: timestamptz("received_at").notNull().defaultNow(),
    processedAt: timestamptz("processed_at"),
  },
  (t) => [
    index("webhook_events_status_idx").on(t.status, t.receivedAt),
    check("webhook_events_status_ck", oneOf(t.status, WEBHOOK_EVENT_STATUSES)),
  ],
);

export type WebhookEventRow = typeof webhookEvents.$inferSelect;
export type NewWebhookEventRow = typeof webhookEvents.$inferInsert;
