import { monthOf, monthRange } from "@sparks/core";
import { MonthCloseRepository, type RetentionCounts, RetentionRepository } from "@sparks/db";
import type { WorkerDeps } from "../worker-deps";
import { clock } from "./pipeline-context";

const DAY_MS = 86_400_000;

export type RetentionResult =
  | { pruned: false; reason: string }
  | { pruned: true; cutoff: Date; counts: RetentionCounts };

/**
 * USAGE_RETENTION_DAYS (null: keep forever) prunes raw data — staging observations, the trace
 * lists of finished sync runs, Stripe audit rows, processed webhook events — older than the
 * retention, but never anything of a month that is not `closed` (the cutoff is clamped to the
 * start of the oldest month that is not), and never the ledger (`usage_items`, `meter_events`).
 * Staging of traces that may still be retried, or of customers whose payment failed, is kept.
 */
export async function pruneRetention(
  deps: Pick<WorkerDeps, "config" | "database" | "logger" | "now">,
): Promise<RetentionResult> {
  const days = deps.config.retentionDays;
  if (days === null)
    return { pruned: false, reason: "USAGE_RETENTION_DAYS is not set: raw data is kept forever" };
  const now = clock(deps as WorkerDeps);
  const current = monthOf(now);
  const unclosed = await new MonthCloseRepository(deps.database.db).unclosedMonthsBefore(current);
  const oldestOpen = [...unclosed, current].sort()[0] ?? current;
  const byAge = now.getTime() - days * DAY_MS;
  const cutoff = new Date(Math.min(byAge, monthRange(oldestOpen).start.getTime()));
  const counts = await new RetentionRepository(deps.database.db).prune(cutoff);
  deps.logger.info({ cutoff, oldestOpen, counts }, "retention pruned raw data");
  return { pruned: true, cutoff, counts };
}
