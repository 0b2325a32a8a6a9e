import { bigint, check, index, integer, numeric, pgTable, text } from "drizzle-orm/pg-core";
import { newCustomerId } from "../id.util";
import { oneOf } from "./check.util";
import { auditTimestamps, timestamptz } from "./columns.util";

export const CUSTOMER_TIERS = ["free", "standard", "enterprise"] as const;
export type CustomerTier = (typeof CUSTOMER_TIERS)[number];

export const CUSTOMER_STATUSES = ["active", "paused"] as const;
export type CustomerStatus = (typeof CUSTOMER_STATUSES)[number];

export const TIER_CHANGE_SOURCES = ["signup", "api", "webhook"] as const;
export type TierChangeSource = (typeof TIER_CHANGE_SOURCES)[number];

export const customers = pgTable(
  "customers",
  {
    id: text("id").primaryKey().$defaultFn(newCustomerId),
    // Nullable: a customer may be created by an operator before its Auth0 user or Stripe
    // customer exists; Postgres UNIQUE allows many NULLs, so this stays a one-to-one link.
    auth0UserId: text("auth0_user_id").unique("customers_auth0_user_id_uq"),
    stripeCustomerId: text("stripe_customer_id").unique("customers_stripe_customer_id_uq"),
    stripeSubscriptionId: text("stripe_subscription_id"),
    tier: text("tier").$type<CustomerTier>().notNull().default("free"),
    status: text("status").$type<CustomerStatus>().notNull().default("active"),
    // Why usage is paused (e.g. `payment_failed`); `/quota` reports it.
    pauseReason: text("pause_reason"),
    // Enterprise overrides: null means "use the tier's quota / SPARK_RATE".
    customQuota: integer("custom_quota"),
    negotiatedRate: numeric("negotiated_rate"),
    email: text("email"),
    name: text("name"),
    ...auditTimestamps(),
  },
  (t) => [
    check("customers_tier_ck", oneOf(t.tier, CUSTOMER_TIERS)),
    check("customers_status_ck", oneOf(t.status, CUSTOMER_STATUSES)),
  ],
);

/**
 * Which tier a customer had when. Usage is billed at the tier in force at the trace's time,
 * so a mid-month change splits the month into segments; `effective_to` null = current.
 */
export const tierHistory = pgTable(
  "tier_history",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    customerId: text("customer_id")
      .notNull()
      .references(() => customers.id, { onDelete: "cascade" }),
    tier: text("tier").$type<CustomerTier>().notNull(),
    effectiveFrom: timestamptz("effective_from").notNull(),
    effectiveTo: timestamptz("effective_to"),
    source: text("source").$type<TierChangeSource>().notNull(),
    /**
     * The negotiated USD per Spark in force during this segment (enterprise), null for the
     * catalog rate: a rate change opens a new segment, so a month's report prices each part of
     * the month at the rate Stripe billed it (the price swap happened at the same instant).
     */
    rate: numeric("rate"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
  },
  (t) => [
    index("tier_history_customer_from_idx").on(t.customerId, t.effectiveFrom),
    check("tier_history_tier_ck", oneOf(t.tier, CUSTOMER_TIERS)),
    check("tier_history_source_ck", oneOf(t.source, TIER_CHANGE_SOURCES)),
  ],
);

export type CustomerRow = typeof customers.$inferSelect;
export type NewCustomerRow = typeof customers.$inferInsert;
export type TierHistoryRow = typeof tierHistory.$inferSelect;
export type NewTierHistoryRow = typeof tierHistory.$inferInsert;
