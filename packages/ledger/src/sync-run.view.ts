import type { SyncRunCounts, SyncRunStatus, SyncTrigger } from "@sparks/db";
import { SyncRunRepository } from "@sparks/db";
import { errorIdOf } from "./error-id";
import type { LedgerDeps } from "./ledger-deps";

export interface SyncRunItemError {
  errorId: string;
  traceId: string;
  usageCategory: string;
  status: string;
  reason: string | null;
}

export interface SyncRunDetails {
  syncId: string;
  status: SyncRunStatus;
  trigger: SyncTrigger;
  window: { from: Date | null; to: Date | null };
  customerId: string | null;
  counts: SyncRunCounts;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** One page of the processed trace ids (sorted), with the total for paging. */
  processedTraceIds: string[];
  processedTraceTotal: number;
  /** The run's own failure, if any, and the current ledger errors of the traces it processed. */
  error: string | null;
  itemErrors: SyncRunItemError[];
  /**
   * Latest occurred_at among the items this run wrote (chunks are read in time order, so it
   * approximates how far through its window the run is); null when not asked for or none yet.
   */
  position: Date | null;
}

export interface SyncRunPage {
  limit?: number;
  offset?: number;
  /** At most this many item errors (default 100). */
  errorLimit?: number;
  /** Also compute `position` (one more query). */
  position?: boolean;
}

/** `GET /usage/sync/:sync_id` and `sparks sync --wait`: null when no such run. */
export async function getSyncRun(
  deps: Pick<LedgerDeps, "database">,
  syncId: string,
  page: SyncRunPage = {},
): Promise<SyncRunDetails | null> {
  const runs = new SyncRunRepository(deps.database.db);
  const run = await runs.find(syncId);
  if (!run) return null;
  const [traceIds, traceTotal, errors, position] = await Promise.all([
    runs.processedTraceIds(syncId, page.limit ?? 1_000, page.offset ?? 0),
    runs.processedTraceCount(syncId),
    runs.itemErrorsOfRun(syncId, page.errorLimit ?? 100),
    page.position ? runs.positionOf(syncId) : Promise.resolve(null),
  ]);
  return {
    syncId: run.id,
    status: run.status,
    trigger: run.trigger,
    window: { from: run.windowFrom, to: run.windowTo },
    customerId: run.customerId,
    counts: run.counts,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    processedTraceIds: traceIds,
    processedTraceTotal: traceTotal,
    error: run.error,
    itemErrors: errors.map((e) => ({
      errorId: errorIdOf(e.id),
      traceId: e.traceId,
      usageCategory: e.usageCategory,
      status: e.status,
      reason: e.reason,
    })),
    position,
  };
}

export function isFinished(status: SyncRunStatus): boolean {
  return status === "completed" || status === "failed";
}

/**
 * Polls the run row until it finished or `timeoutMs` passed (the API's `wait: true`, the CLI's
 * `--wait`). `onProgress` sees every poll (the backfill bar).
 */
export async function waitForSyncRun(
  deps: Pick<LedgerDeps, "database">,
  syncId: string,
  options: { timeoutMs: number; intervalMs?: number; onProgress?: (run: SyncRunDetails) => void },
): Promise<SyncRunDetails | null> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const run = await getSyncRun(deps, syncId, {
      limit: 0,
      errorLimit: 0,
      position: Boolean(options.onProgress),
    });
    if (!run) return null;
    options.onProgress?.(run);
    if (isFinished(run.status) || Date.now() >= deadline) return run;
    await new Promise((r) =>
      setTimeout(r, Math.min(options.intervalMs ?? 250, Math.max(1, deadline - Date.now()))),
    );
  }
}
