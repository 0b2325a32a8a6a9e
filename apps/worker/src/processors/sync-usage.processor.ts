import { newSyncRunId, SyncRunRepository } from "@sparks/db";
import { runSync } from "../use-cases/run-sync.use-case";
import type { ProcessorDefinition } from "./processor-definition";

/**
 * Scheduled jobs all carry `syncId: "scheduled"`: each run gets a fresh id, written back into
 * the job's data so a retry of the same job keeps reporting under the same run.
 */
export const syncUsageProcessor: ProcessorDefinition<"syncUsage"> = {
  create: (deps) => async (payload, job) => {
    let request = payload;
    if (payload.syncId === "scheduled") {
      request = { ...payload, syncId: newSyncRunId() };
      await job.updateData(request);
    }
    const result = await runSync(deps, request);
    return { syncId: result.syncId, counts: result.counts };
  },
  // A run whose job BullMQ gave up on (worker killed, stalled too often) must not stay "running".
  async onFinalFailure(deps, job, error) {
    const syncId = (job.data as { syncId?: unknown }).syncId;
    if (typeof syncId !== "string" || syncId === "scheduled") return;
    await new SyncRunRepository(deps.database.db).abandon(syncId, error.message.slice(0, 2_000));
  },
  // One sync per process; the advisory lock makes it one across processes too.
  options: (deps) => ({ concurrency: 1, lockDuration: deps.pipeline?.syncLockDurationMs ?? 60_000 }),
};
