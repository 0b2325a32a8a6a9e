import type { WorkerDeps } from "./worker-deps";

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
}
