import { bigint, check, index, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { oneOf } from "./check.util";
import { timestamptz } from "./columns.util";
import { customers } from "./customers.schema";

export const ALERT_CHANNELS = ["slack", "email", "log"] as const;
export type AlertChannel = (typeof ALERT_CHANNELS)[number];

/**
 * Alerts already sent. `dedupe_key` (e.g. `quota:80:cus_x:2026-11`) makes "once per threshold
 * per month" an INSERT ... ON CONFLICT DO NOTHING: whoever inserts first sends.
 */
export const alertsSent = pgTable(
  "alerts_sent",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    kind: text("kind").notNull(),
    customerId: text("customer_id").references(() => customers.id, { onDelete: "set null" }),
    dedupeKey: text("dedupe_key").notNull().unique("alerts_sent_dedupe_key_uq"),
    channel: text("channel").$type<AlertChannel>().notNull(),
    payload: jsonb("payload").$type<unknown>(),
    sentAt: timestamptz("sent_at").notNull().defaultNow(),
  },
  (t) => [
    index("alerts_sent_customer_idx").on(t.customerId, t.sentAt),
    check("alerts_sent_channel_ck", oneOf(t.channel, ALERT_CHANNELS)),
  ],
);

export type AlertSentRow = typeof alertsSent.$inferSelect;
export type NewAlertSentRow = typeof alertsSent.$inferInsert;
