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
  return { syncId, status: "queued", deduplicated: false };
}
