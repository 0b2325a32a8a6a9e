import { closedWindowEnd, monthOf, monthRange } from "@sparks/core";
import {
  MeterEventRepository,
  type StagedObservation,
  SyncRunRepository,
  type UsageGroup,
  UsageItemRepository,
  waitForAdvisoryLock,
} from "@sparks/db";
import { splitWindow } from "@sparks/langfuse";
import { itemsQuarantined } from "@sparks/observability";
import { type JobPayload, PermanentJobError, RetryableJobError } from "@sparks/queues";
import type { WorkerDeps } from "../worker-deps";
import {
  addCounts,
  emptyCounts,
  type IngestCounts,
  ingestTraces,
  ResolutionCache,
} from "./ingest-traces.use-case";
import { clock, enqueuePush, pushDedupeId, SYNC_LOCK_KEY, WATERMARK_NAME } from "./pipeline-context";
import { refreshUsageCounters } from "./refresh-usage-counters.use-case";

const HOUR_MS = 3_600_000;

export type SyncRequest = JobPayload<"syncUsage">;

export interface SyncResult {
  syncId: string;
  status: "completed";
  window: { from: Date; to: Date };
  counts: IngestCounts & { push_jobs: number };
}

/**
 * Reads the next page while the current one is being written, so Langfuse latency and ledger
 * writes overlap; still one page ahead at most, so memory stays bounded.
 */
export async function* prefetched<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  for (;;) {
    const current = await next;
    if (current.done) return;
    next = iterator.next();
    // A read that fails while we write is reported when awaited; keep it from going unhandled.
    next.catch(() => undefined);
    yield current.value;
  }
}

/** Every page of every chunk, in order, as one stream (so reading ahead crosses chunk edges). */
async function* windowPages(
  reader: NonNullable<WorkerDeps["langfuse"]>,
  chunks: ReadonlyArray<{ from: Date; to: Date }>,
): AsyncGenerator<StagedObservation[]> {
  for (const chunk of chunks) yield* reader.readWindow(chunk);
}

/**
 * Ingests pages with two page transactions in flight: page K+1 stages its rows, reads the rest of
 * its traces and derives them while page K writes its ledger rows and commits, so the worker's CPU
 * and Postgres (on two connections) work at the same time instead of taking turns. What keeps it
 * exactly as correct as one page after another:
 * - a trace that page K shares with page K+1 (already read: pages are read one ahead) is left to
 *   K+1 (`deferred`), which gets K's rows of it from memory (`carried`), since K may not have
 *   committed them yet; so each trace is derived by one transaction at a time;
 * - K+1 touches the ledger only after K committed (`after`), and rolls back if K failed;
 * - page K+2 starts only after K committed, so everything older is visible to it;
 * - a page holding an observation the previous page also had (a row that moved between reads)
 *   waits for that page to commit before it starts (its staging row would be locked by it).
 */
export async function ingestPipelined(
  deps: WorkerDeps,
  syncRunId: string,
  pages: AsyncIterable<StagedObservation[]>,
  counts: IngestCounts,
  onProgress: () => Promise<void>,
): Promise<void> {
  const cache = new ResolutionCache();
  const iterator = prefetched(pages)[Symbol.asyncIterator]();
  let previous: Promise<IngestCounts> | undefined;
  let previousIds = new Set<string>();
  let carry: StagedObservation[] = [];
  try {
    let current = await iterator.next();
    while (!current.done) {
      const page = current.value;
      const next = await iterator.next();
      const nextTraces = new Set(next.done ? [] : next.value.map((r) => r.traceId));
      const pageTraces = new Set(page.map((r) => r.traceId));
      for (const r of carry) pageTraces.add(r.traceId);
      const deferred = new Set([...pageTraces].filter((t) => nextTraces.has(t)));
      if (previous && page.some((r) => previousIds.has(r.observationId))) {
        const done = previous;
        previous = undefined;
        addCounts(counts, await done);
      }
      const run = ingestTraces(
        deps,
        {
          traceIds: [...pageTraces].filter((t) => !deferred.has(t)),
          syncRunId,
          page,
          carried: carry,
          deferred,
          ...(previous ? { after: previous } : {}),
        },
        cache,
      );
      // Awaited below (or in `finally` if the previous page fails first).
      run.catch(() => undefined);
      carry = deferred.size === 0 ? [] : [...carry, ...page].filter((r) => deferred.has(r.traceId));
      const done = previous;
      previous = run;
      previousIds = new Set(page.map((r) => r.observationId));
      if (done) {
        addCounts(counts, await done);
        // After a page committed (not before the first did: the first save shows progress).
        await onProgress();
      }
      current = next;
    }
    if (previous) {
      const done = previous;
      previous = undefined;
      addCounts(counts, await done);
    }
  } finally {
    // Never leave a page transaction running behind a failed sync (it still holds the sync lock).
    if (previous) await previous.catch(() => undefined);
  }
}

/**
 * The window a sync reads: closed windows only (ending at now − LANGFUSE_LAG). Without an
 * explicit `from`, it re-scans from the watermark minus the lag, so observations ingested
 * late by Langfuse are read again (and staged idempotently), or starts at the current UTC
 * month on a fresh install.
 */
export async function resolveWindow(
  deps: WorkerDeps,
  request: SyncRequest,
): Promise<{ from: Date; to: Date }> {
  const now = clock(deps);
  const lag = deps.config.langfuse.lagSeconds;
  const closedEnd = closedWindowEnd(now, lag);
  const requestedTo = request.to ? new Date(request.to) : closedEnd;
  const to = requestedTo.getTime() > closedEnd.getTime() ? closedEnd : requestedTo;
  let from: Date;
  if (request.from) from = new Date(request.from);
  else {
    const watermark = await new SyncRunRepository(deps.database.db).watermark(WATERMARK_NAME);
    from = watermark ? new Date(watermark.getTime() - lag * 1000) : monthRange(monthOf(now)).start;
  }
  return { from: from.getTime() > to.getTime() ? to : from, to };
}

/**
 * One sync run: read closed windows chunk by chunk, stage each page, re-derive the touched
 * traces, write the ledger, save progress, move the watermark, then sweep: a push job for every
 * group with work left (so a Redis flush is healed by the next sync). Only one sync runs at a
 * time (a Postgres advisory lock that dies with its connection).
 */
export async function runSync(deps: WorkerDeps, request: SyncRequest): Promise<SyncResult> {
  const reader = deps.langfuse;
  if (!reader)
    throw new PermanentJobError("Langfuse is not configured (LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY)");
  const db = deps.database.db;
  const runs = new SyncRunRepository(db);
  const trigger = request.trigger === "month-close" ? "month-close" : request.trigger;
  await runs.ensure({ id: request.syncId, trigger, customerId: request.customerId });
  const release = await waitForAdvisoryLock(
    deps.database,
    SYNC_LOCK_KEY,
    deps.pipeline?.syncLockWaitMs ?? 15 * 60_000,
  );
  if (!release) throw new RetryableJobError("another sync is running; this one waits its turn");
  const counts = emptyCounts();
  try {
    const window = await resolveWindow(deps, request);
    await runs.start(request.syncId, window.from, window.to);
    const chunks = splitWindow(window.from, window.to, deps.pipeline?.chunkMs ?? HOUR_MS);
    let savedAt = 0;
    await ingestPipelined(deps, request.syncId, windowPages(reader, chunks), counts, async () => {
      // Progress for the backfill bar, at most every half second rather than per page.
      if (Date.now() - savedAt > 500) {
        await runs.saveProgress(request.syncId, { ...counts });
        savedAt = Date.now();
      }
    });
    if (!request.from || (await runs.watermark(WATERMARK_NAME)) === null) {
      await runs.advanceWatermark(WATERMARK_NAME, window.to);
    }
    const pushJobs = await sweep(deps, request.customerId);
    // Quota counters and alerts must not fail a sync whose ledger work is done.
    await refreshUsageCounters(deps, { syncRunId: request.syncId }).catch((e: Error) =>
      deps.logger.warn({ syncId: request.syncId, err: e.message }, "usage counters not refreshed"),
    );
    if (counts.quarantined > 0) itemsQuarantined.inc({ category: "any", reason: "sync" }, counts.quarantined);
    const final = { ...counts, push_jobs: pushJobs };
    await runs.finish(request.syncId, "completed", final, null);
    deps.logger.info({ syncId: request.syncId, counts: final }, "sync completed");
    return { syncId: request.syncId, status: "completed", window, counts: final };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await runs.finish(request.syncId, "failed", { ...counts }, message).catch(() => undefined);
    throw error;
  } finally {
    await release();
  }
}

/** Push jobs added at once by a sweep (each add is one Redis round trip). */
const SWEEP_LANES = 16;

/**
 * Enqueues a push job for every group that still has something to send. The adds run in a few
 * concurrent lanes: one after another, a backfill's ~1,000 groups took half a second of the sync.
 */
export async function sweep(deps: WorkerDeps, customerId: string | null = null): Promise<number> {
  const db = deps.database.db;
  const groups = new Map<string, UsageGroup>();
  for (const group of [
    ...(await new UsageItemRepository(db).groupsWithWork(customerId)),
    ...(await new MeterEventRepository(db).groupsWithPendingEvents()),
  ])
    groups.set(pushDedupeId(group), group);
  const lanes: UsageGroup[][] = Array.from({ length: SWEEP_LANES }, () => []);
  let i = 0;
  for (const group of groups.values()) lanes[i++ % SWEEP_LANES]?.push(group);
  const added = await Promise.all(lanes.map((lane) => enqueuePush(deps, lane)));
  return added.reduce((a, b) => a + b, 0);
}
