import { bigint, index, integer, jsonb, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.util";

/**
 * Every call Sparks made to Stripe, for reconciliation and support. Request bodies are
 * stored with secrets removed by the caller: never put an API key or signature in here.
 */
export const stripeAuditLog = pgTable(
  "stripe_audit_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamptz("at").notNull().defaultNow(),
    operation: text("operation").notNull(),
    request: jsonb("request").$type<unknown>(),
    response: jsonb("response").$type<unknown>(),
    // Null when no HTTP answer came back (network error, timeout).
    statusCode: integer("status_code"),
    identifier: text("identifier"),
    usageItemIds: bigint("usage_item_ids", { mode: "number" }).array(),
    meterEventId: bigint("meter_event_id", { mode: "number" }),
    durationMs: integer("duration_ms"),
    error: text("error"),
  },
  (t) => [
    index("stripe_audit_log_at_idx").on(t.at),
    index("stripe_audit_log_identifier_idx").on(t.identifier),
  ],
);

export type StripeAuditLogRow = typeof stripeAuditLog.$inferSelect;
export type NewStripeAuditLogRow = typeof stripeAuditLog.$inferInsert;
