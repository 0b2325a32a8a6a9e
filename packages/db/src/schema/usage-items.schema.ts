import { USAGE_ITEM_STATUSES, type UsageItemStatus } from "@sparks/core";
import { sql } from "drizzle-orm";
import { bigint, check, index, integer, jsonb, numeric, pgTable, text, unique } from "drizzle-orm/pg-core";
import { isMonth, nonNegative, oneOf } from "./check.util";
import { auditTimestamps, timestamptz } from "./columns.util";
import { customers } from "./customers.schema";
import { meterEvents } from "./meter-events.schema";
import { syncRuns } from "./sync.schema";

// The status list is core's (one list for the check constraint and the domain); re-exported here for the schema's users.
export { USAGE_ITEM_STATUSES, type UsageItemStatus };

/**
 * The ledger: one row per `(trace_id, usage_category, quantity_revision)`, whatever happened to
 * it. Revision 0 is the original item; a quantity that changed after the item was sent is a
 * correction row (revision n > 0) carrying the DELTA: positive deltas are sent as their own
 * meter event, negative ones are recorded as `discrepancy` (Stripe takes no negative values).
 * The UNIQUE constraint is what makes re-scanning Langfuse windows safe.
 */
export const usageItems = pgTable(
  "usage_items",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    traceId: text("trace_id").notNull(),
    // Not constrained to the known categories: an unknown one is stored quarantined, with
    // its reason, rather than dropped (SPEC §2).
    usageCategory: text("usage_category").notNull(),
    // Null while the trace's customer can't be resolved (quarantined); set once mapped.
    customerId: text("customer_id").references(() => customers.id),
    // The customer reference as the trace carried it (Sparks id, Auth0 id, or garbage).
    customerRef: text("customer_ref"),
    month: text("month").notNull(),
    occurredAt: timestamptz("occurred_at").notNull(),
    // Null when the trace's value was not a usable number; `raw_value` keeps what came in.
    quantity: numeric("quantity"),
    unit: text("unit"),
    rawValue: jsonb("raw_value").$type<unknown>(),
    // Exact Sparks at nano precision; whole Sparks are derived from sums of these.
    exactSparks: numeric("exact_sparks", { precision: 38, scale: 9 }).notNull().default("0"),
    // Whole Sparks already told to Stripe for this item.
    sentSparks: bigint("sent_sparks", { mode: "number" }).notNull().default(0),
    status: text("status").$type<UsageItemStatus>().notNull().default("pending"),
    reason: text("reason"),
    stripeIdentifier: text("stripe_identifier"),
    meterEventId: bigint("meter_event_id", { mode: "number" }).references(() => meterEvents.id, {
      onDelete: "set null",
    }),
    costCenter: text("cost_center").notNull().default("default"),
    // Billing tier at the trace's time; `tier_hint` is the trace's `subscription_tier`.
    tier: text("tier"),
    tierHint: text("tier_hint"),
    attempts: integer("attempts").notNull().default(0),
    syncRunId: text("sync_run_id").references(() => syncRuns.id, { onDelete: "set null" }),
    // Bumped when a re-scan finds a different quantity for an already-stored item.
    quantityRevision: integer("quantity_revision").notNull().default(0),
    ...auditTimestamps(),
    sentAt: timestamptz("sent_at"),
    // Late usage: the original trace time of an item re-filed from a closed month into the next
    // open one (its month and occurred_at are the billing month's); set by a trigger (0003).
    lateFrom: timestamptz("late_from"),
    // A discrepancy (shrink) once it has been given back in Stripe: the usage_corrections rows
    // listing this item cancelled or credited the Sparks it over-billed. Null: still owed back.
    correctedAt: timestamptz("corrected_at"),
  },
  (t) => [
    unique("usage_items_trace_category_rev_uq").on(t.traceId, t.usageCategory, t.quantityRevision),
    index("usage_items_status_customer_category_month_idx").on(
      t.status,
      t.customerId,
      t.usageCategory,
      t.month,
    ),
    index("usage_items_month_customer_idx").on(t.month, t.customerId),
    index("usage_items_sync_run_idx").on(t.syncRunId),
    index("usage_items_meter_event_idx").on(t.meterEventId),
    check("usage_items_status_ck", oneOf(t.status, USAGE_ITEM_STATUSES)),
    check("usage_items_month_ck", isMonth(t.month)),
    // Only a discrepancy (a shrink after sending) carries a negative delta.
    check("usage_items_exact_sparks_ck", sql`${t.exactSparks} >= 0 or ${t.status} = 'discrepancy'`),
    check("usage_items_sent_sparks_ck", nonNegative(t.sentSparks)),
  ],
);

export type UsageItemRow = typeof usageItems.$inferSelect;
export type NewUsageItemRow = typeof usageItems.$inferInsert;
