import { sql } from "drizzle-orm";
import { bigint, check, index, integer, pgTable, text } from "drizzle-orm/pg-core";
import { isMonth, oneOf } from "./check.util";
import { timestamptz } from "./columns.util";
import { customers } from "./customers.schema";
import { meterEvents } from "./meter-events.schema";

export const CORRECTION_KINDS = ["cancel", "invoice_credit", "credit_note"] as const;
export type CorrectionKind = (typeof CORRECTION_KINDS)[number];

export const CORRECTION_STATUSES = ["pending", "done", "failed"] as const;
export type CorrectionStatus = (typeof CORRECTION_STATUSES)[number];

/**
 * How a shrink (a quantity lowered after it was sent) was given back in Stripe: a meter event
 * cancelled and resent with the right value, a negative invoice item, or a credit note. Each
 * row is decided and stored BEFORE Stripe is called; its `key` is the identifier / idempotency
 * key of that call (deterministic from the discrepancy rows it covers), so a retried job
 * replays the same call and never credits twice. `trace_ids` and `item_ids` name the usage.
 */
export const usageCorrections = pgTable(
  "usage_corrections",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    key: text("key").notNull().unique("usage_corrections_key_uq"),
    customerId: text("customer_id")
      .notNull()
      .references(() => customers.id),
    usageCategory: text("usage_category").notNull(),
    month: text("month").notNull(),
    kind: text("kind").$type<CorrectionKind>().notNull(),
    status: text("status").$type<CorrectionStatus>().notNull().default("pending"),
    // Whole Sparks given back, and (credits only) the cents credited for them.
    sparks: bigint("sparks", { mode: "number" }).notNull(),
    cents: bigint("cents", { mode: "number" }).notNull().default(0),
    // The price segment (tier) the credited Sparks were billed at.
    tier: text("tier"),
    traceIds: text("trace_ids").array().notNull(),
    itemIds: bigint("item_ids", { mode: "number" }).array().notNull(),
    // cancel: the event taken back, and the replacement sent with the right value (if > 0).
    cancelledMeterEventId: bigint("cancelled_meter_event_id", { mode: "number" }).references(
      () => meterEvents.id,
    ),
    resendValue: bigint("resend_value", { mode: "number" }),
    replacementIdentifier: text("replacement_identifier"),
    // credits: the invoice credited (null for a pending item on the period's coming invoice).
    stripeInvoiceId: text("stripe_invoice_id"),
    // The invoice item, credit note or (cancel) adjustment's identifier Stripe answered with.
    stripeObjectId: text("stripe_object_id"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    appliedAt: timestamptz("applied_at"),
  },
  (t) => [
    index("usage_corrections_group_idx").on(t.customerId, t.usageCategory, t.month),
    check("usage_corrections_kind_ck", oneOf(t.kind, CORRECTION_KINDS)),
    check("usage_corrections_status_ck", oneOf(t.status, CORRECTION_STATUSES)),
    check("usage_corrections_month_ck", isMonth(t.month)),
    check("usage_corrections_sparks_ck", sql`${t.sparks} > 0`),
    check("usage_corrections_cents_ck", sql`${t.cents} >= 0`),
  ],
);

export type UsageCorrectionRow = typeof usageCorrections.$inferSelect;
