import { check, index, integer, jsonb, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { newSyncRunId } from "../id.util";
import { oneOf } from "./check.util";
import { timestamptz } from "./columns.util";

export const SYNC_RUN_STATUSES = ["queued", "running", "completed", "failed"] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];

export const SYNC_TRIGGERS = ["schedule", "manual", "backfill", "month-close"] as const;
export type SyncTrigger = (typeof SYNC_TRIGGERS)[number];

/** Per-status item counts of a run; open-ended so the pipeline can add counters. */
export type SyncRunCounts = Record<string, number>;

/** One requested sync (`sync_id` in the API). */
export const syncRuns = pgTable(
  "sync_runs",
  {
    id: text("id").primaryKey().$defaultFn(newSyncRunId),
    // Null until the run resolves "everything new up to now - lag" when it starts.
    windowFrom: timestamptz("window_from"),
    windowTo: timestamptz("window_to"),
    // Optional filter: a resolved Sparks customer id. No FK, so a run's history survives
    // whatever happens to the customer row.
    customerId: text("customer_id"),
    status: text("status").$type<SyncRunStatus>().notNull().default("queued"),
    trigger: text("trigger").$type<SyncTrigger>().notNull(),
    counts: jsonb("counts").$type<SyncRunCounts>().notNull().default({}),
    processedTraceCount: integer("processed_trace_count").notNull().default(0),
    error: text("error"),
    createdAt: timestamptz("created_at").notNull().defaultNow(),
    startedAt: timestamptz("started_at"),
    finishedAt: timestamptz("finished_at"),
  },
  (t) => [
    index("sync_runs_status_created_idx").on(t.status, t.createdAt),
    check("sync_runs_status_ck", oneOf(t.status, SYNC_RUN_STATUSES)),
    check("sync_runs_trigger_ck", oneOf(t.trigger, SYNC_TRIGGERS)),
  ],
);

/**
 * Watermark per source (e.g. `langfuse:v2`): the end of the last closed window fully read.
 * Incremental scans start a little before it to pick up late-ingested observations.
 */
export const syncWindows = pgTable("sync_windows", {
  name: text("name").primaryKey(),
  lastClosedEnd: timestamptz("last_closed_end").notNull(),
  updatedAt: timestamptz("updated_at")
    .notNull()
    .defaultNow()
    .$onUpdate(() => new Date()),
});

export type SyncRunRow = typeof syncRuns.$inferSelect;
export type NewSyncRunRow = typeof syncRuns.$inferInsert;
export type SyncWindowRow = typeof syncWindows.$inferSelect;
export type NewSyncWindowRow = typeof syncWindows.$inferInsert;

/**
 * The trace ids a sync run processed (`processed_trace_ids` of `POST /usage/sync`), including
 * traces that yielded no usage item, which `usage_items.sync_run_id` could not show.
 */
export const syncRunTraces = pgTable(
  "sync_run_traces",
  {
    syncRunId: text("sync_run_id")
      .notNull()
      .references(() => syncRuns.id, { onDelete: "cascade" }),
    traceId: text("trace_id").notNull(),
  },
  (t) => [primaryKey({ name: "sync_run_traces_pk", columns: [t.syncRunId, t.traceId] })],
);

export type SyncRunTraceRow = typeof syncRunTraces.$inferSelect;
