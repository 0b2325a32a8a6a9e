import { sql } from "drizzle-orm";
import { boolean, check, numeric, pgTable, text } from "drizzle-orm/pg-core";
import { oneOf } from "./check.util";
import { auditTimestamps } from "./columns.util";
import { customers } from "./customers.schema";

export const QUOTA_CAP_UNITS = ["usd", "sparks"] as const;
export type QuotaCapUnit = (typeof QUOTA_CAP_UNITS)[number];

/**
 * A paid customer's monthly spend cap, set by an admin (`PUT /quota/cap`, `sparks quota:cap`).
 * `amount` is exact (USD or Sparks, never a float); a `soft` cap alerts at 50/80/100% but never
 * refuses. The free tier needs no row: its hard cap is the tier's quota.
 */
export const quotaCaps = pgTable(
  "quota_caps",
  {
    customerId: text("customer_id")
      .primaryKey()
      .references(() => customers.id, { onDelete: "cascade" }),
    unit: text("unit").$type<QuotaCapUnit>().notNull(),
    amount: numeric("amount").notNull(),
    soft: boolean("soft").notNull().default(false),
    setBy: text("set_by"),
    ...auditTimestamps(),
  },
  (t) => [
    check("quota_caps_unit_ck", oneOf(t.unit, QUOTA_CAP_UNITS)),
    check("quota_caps_amount_ck", sql`${t.amount} > 0`),
  ],
);

export type QuotaCapRow = typeof quotaCaps.$inferSelect;
