import { bigint, boolean, check, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { isMonth, nonNegative, oneOf } from "./check.util";
import { timestamptz } from "./columns.util";
import { customers } from "./customers.schema";

export const METER_EVENT_STATUSES = ["pending", "sent", "failed"] as const;
export type MeterEventStatus = (typeof METER_EVENT_STATUSES)[number];

/**
 * What Sparks told (or will tell) Stripe. Stripe deduplicates `identifier` only for ~24h,
 * so this table, not Stripe, is the record that an event was sent once. An aggregated event
 * stands for many usage items, linked through `usage_items.meter_event_id`.
 */
export const meterEvents = pgTable(
  "meter_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    identifier: text("identifier").notNull().unique("meter_events_identifier_uq"),
    customerId: text("customer_id")
      .notNull()
      .references(() => customers.id),
    stripeCustomerId: text("stripe_customer_id").notNull(),
    usageCategory: text("usage_category").notNull(),
    eventName: text("event_name").notNull(),
    month: text("month").notNull(),
    // Whole Sparks: Stripe meter values are integers. `mode: number` is exact up to 2^53.
    value: bigint("value", { mode: "number" }).notNull(),
    eventTimestamp: timestamptz("event_timestamp").notNull(),
    status: text("status").$type<MeterEventStatus>().notNull().default("pending"),
    aggregated: boolean("aggregated").notNull().default(false),
    itemCount: integer("item_count").notNull().default(1),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    stripeResponse: jsonb("stripe_response").$type<unknown>(),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    sentAt: timestamptz("sent_at"),
  },
  (t) => [
    index("meter_events_status_customer_idx").on(t.status, t.customerId, t.usageCategory),
    index("meter_events_month_customer_idx").on(t.month, t.customerId),
    check("meter_events_status_ck", oneOf(t.status, METER_EVENT_STATUSES)),
    check("meter_events_month_ck", isMonth(t.month)),
    check("meter_events_value_ck", nonNegative(t.value)),
  ],
);

export type MeterEventRow = typeof meterEvents.$inferSelect;
export type NewMeterEventRow = typeof meterEvents.$inferInsert;
