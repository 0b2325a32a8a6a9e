import { bigint, check, index, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { isMonth, oneOf } from "./check.util";
import { timestamptz } from "./columns.util";
import { customers } from "./customers.schema";

export const MONTH_CLOSE_STATUSES = ["open", "closing", "closed"] as const;
export type MonthCloseStatus = (typeof MONTH_CLOSE_STATUSES)[number];

/** Billing-cycle state per UTC month: closed only after the lag passed and all was sent. */
export const monthCloses = pgTable(
  "month_closes",
  {
    month: text("month").primaryKey(),
    status: text("status").$type<MonthCloseStatus>().notNull().default("open"),
    closedAt: timestamptz("closed_at"),
    updatedAt: timestamptz("updated_at")
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  },
  (t) => [
    check("month_closes_status_ck", oneOf(t.status, MONTH_CLOSE_STATUSES)),
    check("month_closes_month_ck", isMonth(t.month)),
  ],
);

export type MonthCloseRow = typeof monthCloses.$inferSelect;
export type NewMonthCloseRow = typeof monthCloses.$inferInsert;

export const CUSTOMER_MONTH_STATUSES = ["open", "closed"] as const;
export type CustomerMonthStatus = (typeof CUSTOMER_MONTH_STATUSES)[number];

/**
 * Month close per customer (issue 14): a customer's month is `closed` once the Langfuse lag has
 * passed and nothing of the customer's month is left to send; from then on its late usage is
 * re-filed into the customer's next open month (trigger, migration 0005), and its held Stripe
 * invoice may be released. One stuck customer (no Stripe id, items that keep failing) never
 * holds another customer's close. The invoice columns are what the release last saw, so the
 * report and the operator can tell a released invoice from one still held, and why.
 */
export const customerMonthCloses = pgTable(
  "customer_month_closes",
  {
    customerId: text("customer_id")
      .notNull()
      .references(() => customers.id),
    month: text("month").notNull(),
    status: text("status").$type<CustomerMonthStatus>().notNull().default("open"),
    closedAt: timestamptz("closed_at"),
    // The Stripe invoice of the customer's period ending at this month's end (held at creation).
    invoiceId: text("invoice_id"),
    invoiceStatus: text("invoice_status"),
    invoiceTotalCents: bigint("invoice_total_cents", { mode: "bigint" }),
    // What the ledger says the invoice must total (the report's net, in cents).
    ledgerNetCents: bigint("ledger_net_cents", { mode: "bigint" }),
    discountCents: bigint("discount_cents", { mode: "bigint" }),
    // Why the hold is not released yet (null once released), and the money it keeps unbilled.
    holdReason: text("hold_reason"),
    atRiskCents: bigint("at_risk_cents", { mode: "bigint" }),
    releasedAt: timestamptz("released_at"),
    updatedAt: timestamptz("updated_at")
      .notNull()
      .defaultNow()
      .$onUpdate(() => new Date()),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.month] }),
    check("customer_month_closes_status_ck", oneOf(t.status, CUSTOMER_MONTH_STATUSES)),
    check("customer_month_closes_month_ck", isMonth(t.month)),
    index("customer_month_closes_month_idx").on(t.month, t.status),
    index("customer_month_closes_invoice_idx").on(t.invoiceId),
  ],
);

export type CustomerMonthCloseRow = typeof customerMonthCloses.$inferSelect;
