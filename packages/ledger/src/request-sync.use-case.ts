import { BaseError } from "@sparks/core";
import type { Database } from "@sparks/db";
import { newSyncRunId, SyncRunRepository } from "@sparks/db";
import type { QueueService } from "@sparks/queues";

export interface SyncRequestInput {
  from?: string;
  to?: string;
  customerId?: string | null;
  trigger?: "manual" | "backfill" | "schedule" | "month-close";
}

export interface RequestedSync {
  syncId: string;
  status: "queued" | "running";
  /** true when an already queued/running sync was returned instead of a new one. */
  deduplicated: boolean;
}

/**
 * Redis did not take the sync's job (down, or refusing writes). Retryable: nothing was left
 * behind (the run row is marked failed), so the same request may simply be sent again.
 */
export class SyncQueueUnavailableError extends BaseError {
  override readonly name = "SyncQueueUnavailableError";
  constructor(cause: unknown) {
    super("the job queue (Redis) is unavailable; the sync was not queued, retry later", {
      retryable: true,
      code: "sync_queue_unavailable",
      cause,
    });
  }
}

/**
 * A queued/running row younger than this is trusted without looking for its job: its creator
 * may be between inserting the row and adding the job (and marks the row failed if that fails).
 */
export const DEAD_RUN_MIN_AGE_MS = 30_000;

/**
 * Marks failed every queued/running sync run whose BullMQ job no longer exists (Redis was
 * down when it was requested, or lost its data since): such a row would otherwise make every
 * default sync request join a run that never runs. Returns the ids it failed.
 */
export async function failDeadSyncRuns(
  deps: { database: Database; queues: QueueService },
  now: Date = new Date(),
): Promise<string[]> {
  const runs = new SyncRunRepository(deps.database.db);
  const failed: string[] = [];
  for (const run of await runs.listActive()) {
    if (now.getTime() - run.createdAt.getTime() < DEAD_RUN_MIN_AGE_MS) continue;
    const job = await deps.queues.queue("syncUsage").getJob(run.id);
    const state = job ? await job.getState() : "missing";
    if (state === "missing" || state === "unknown" || state === "completed" || state === "failed") {
      await runs.abandon(
        run.id,
        `its job is gone from the queue (${state}): Redis was unavailable or lost its data`,
      );
      failed.push(run.id);
    }
  }
  return failed;
}

/**
 * For the API and CLI: records a queued sync run and enqueues it. While another sync is queued
 * or running, a request for the default window joins it instead of queuing another; a request
 * with an explicit window is queued and runs after it (the sync lock serialises runs).
 */
export async function requestSync(
  deps: { database: Database; queues: QueueService },
  input: SyncRequestInput = {},
): Promise<RequestedSync> {
  const runs = new SyncRunRepository(deps.database.db);
  if (!input.from && !input.to) {
    // Never join a run without a job: fail dead rows first (a Redis outage answers 503 here).
    await failDeadSyncRuns(deps).catch((e: unknown) => {
      throw new SyncQueueUnavailableError(e);
    });
    const active = await runs.findActive();
    if (active && (active.status === "queued" || active.status === "running")) {
      return { syncId: active.id, status: active.status, deduplicated: true };
    }
  }
  const syncId = newSyncRunId();
  const trigger = input.trigger ?? "manual";
  await runs.ensure({
    id: syncId,
    trigger,
    windowFrom: input.from ? new Date(input.from) : null,
    windowTo: input.to ? new Date(input.to) : null,
    customerId: input.customerId ?? null,
  });
  try {
    await deps.queues.add(
      "syncUsage",
      {
        syncId,
        ...(input.from ? { from: input.from } : {}),
        ...(input.to ? { to: input.to } : {}),
        customerId: input.customerId ?? null,
        trigger,
      },
      { jobId: syncId },
    );
  } catch (e) {
    // No job, no queued row: a later request must not join a run that will never run.
    await runs.abandon(syncId, "Redis was unavailable when the sync was requested; nothing was queued");
    throw new SyncQueueUnavailableError(e);
  }
  return { syncId, status: "queued", deduplicated: false };
}
