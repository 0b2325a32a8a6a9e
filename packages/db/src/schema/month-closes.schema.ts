import { check, pgTable, text } from "drizzle-orm/pg-core";
import { isMonth, oneOf } from "./check.util";
import { timestamptz } from "./columns.util";

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
