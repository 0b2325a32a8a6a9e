import { monthOf } from "@sparks/core";
import type { JobName } from "@sparks/queues";
import { RECONCILE_DAILY } from "./processors/reconcile.processor";
import { MONTH_CLOSE_CHECK } from "./use-cases/close-month.use-case";
import type { WorkerDeps } from "./worker-deps";

/**
 * The minute of each hour the month-close check runs: just after LANGFUSE_LAG has passed the
 * full hour, so a month closes minutes after end + lag — well inside Stripe's 1 h
 * finalization grace period — instead of up to an hour later.
 */
export function monthCloseCheckMinute(lagSeconds: number): number {
  return Math.min(59, Math.ceil(lagSeconds / 60) + 1);
}

/** Every job scheduler a worker owns, as [catalog job name, scheduler id]. */
export const SCHEDULER_IDS = [
  ["syncUsage", "sync-usage-schedule"],
  ["monthClose", "month-close-check"],
  ["reconcile", "reconcile-daily"],
  ["retention", "retention-daily"],
  ["quotaRefresh", "quota-refresh"],
] as const satisfies ReadonlyArray<readonly [JobName, string]>;

/**
 * BullMQ 6 job schedulers (not the removed repeatable jobs). Upserting is idempotent, so
 * every worker process may call it at start-up; the pattern comes from SYNC_SCHEDULE.
 */
export async function upsertSchedulers(deps: WorkerDeps): Promise<void> {
  await deps.queues
    .queue("syncUsage")
    .upsertJobScheduler(
      "sync-usage-schedule",
      { pattern: deps.config.syncSchedule, tz: "UTC" },
      { name: "syncUsage", data: { syncId: "scheduled", customerId: null, trigger: "schedule" } },
    );
  // The `month` of the two scheduled jobs below only satisfies the payload schema: the check
  // works out which months are due, the daily reconcile takes the current and previous month.
  const placeholderMonth = monthOf(new Date());
  await deps.queues
    .queue("monthClose")
    .upsertJobScheduler(
      "month-close-check",
      { pattern: `${monthCloseCheckMinute(deps.config.langfuse.lagSeconds)} * * * *`, tz: "UTC" },
      { name: MONTH_CLOSE_CHECK, data: { month: placeholderMonth } },
    );
  await deps.queues
    .queue("reconcile")
    .upsertJobScheduler(
      "reconcile-daily",
      { pattern: "30 4 * * *", tz: "UTC" },
      { name: RECONCILE_DAILY, data: { month: placeholderMonth, repair: true } },
    );
  await deps.queues
    .queue("retention")
    .upsertJobScheduler(
      "retention-daily",
      { pattern: "30 3 * * *", tz: "UTC" },
      { name: "retention", data: {} },
    );
  // Provisional quota counters: every QUOTA_REFRESH_SECONDS, one Langfuse request per run.
  await deps.queues
    .queue("quotaRefresh")
    .upsertJobScheduler(
      "quota-refresh",
      { every: deps.config.quota.refreshSeconds * 1000 },
      { name: "quotaRefresh", data: {} },
    );
}
