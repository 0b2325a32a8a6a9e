import { boolean, index, pgTable, text } from "drizzle-orm/pg-core";
import { timestamptz } from "./columns.util";

/**
 * Staging of Langfuse observations, one row per observation id. Re-reading a window upserts
 * the same rows, so the derived ledger never double-counts; a trace's usage is re-derived from
 * all of its staged rows whenever one of them is (re)read. In v1 mode the trace itself is
 * staged as `trace:<id>` with type `TRACE`. Only billing keys of metadata are kept.
 */
export const observationUsage = pgTable(
  "observation_usage",
  {
    observationId: text("observation_id").primaryKey(),
    traceId: text("trace_id").notNull(),
    type: text("type").notNull(),
    startTime: timestamptz("start_time").notNull(),
    userId: text("user_id"),
    isRoot: boolean("is_root").notNull().default(false),
    // Raw JSON values (as JSON text), so bad strings are still quarantined with their reason on
    // re-derivation. Text, not jsonb: staging never queries into them, and jsonb's parse on every
    // write was the largest part of a page's staging cost (migration 0004).
    usageDetails: text("usage_details"),
    metadata: text("metadata"),
    costUsd: text("cost_usd"),
    seenAt: timestamptz("seen_at").notNull().defaultNow(),
  },
  (t) => [index("observation_usage_trace_idx").on(t.traceId)],
);

export type ObservationUsageRow = typeof observationUsage.$inferSelect;
export type NewObservationUsageRow = typeof observationUsage.$inferInsert;
