import { type MonthKey, monthCloseAt, monthOf, monthRange, parseMonth, prevMonth } from "@sparks/core";
import { MonthCloseRepository, SyncRunRepository } from "@sparks/db";
import { jobId, PermanentJobError, RetryableJobError } from "@sparks/queues";
import type { WorkerDeps } from "../worker-deps";
import { clock, sleep } from "./pipeline-context";
import { runSync, sweep } from "./run-sync.use-case";

/** Job name of the hourly check on the month-close queue (the per-month jobs use the queue name). */
export const MONTH_CLOSE_CHECK = "monthCloseCheck";

export interface CloseMonthOptions {
  /** How long one attempt waits for the push to flush the month before handing back to BullMQ (default 60 s). */
  flushWaitMs?: number;
  /** Poll interval while waiting (default 1 s). */
  pollMs?: number;
}

export type CloseMonthResult =
  | { month: MonthKey; status: "open"; closableAt: Date }
  | { month: MonthKey; status: "closed"; closedAt: Date; finalSyncId: string | null; alreadyClosed: boolean };

/** The deterministic id of a month's final sync, so a retried close never reads the month twice. */
export function finalSyncId(month: MonthKey): string {
  return `sync_close_${month.replace("-", "_")}`;
}

function checkedMonth(month: string): MonthKey {
  const parsed = parseMonth(month);
  if (!parsed.ok) throw new PermanentJobError(parsed.err.message);
  return parsed.val;
}

/**
 * Closes month M once M's end + LANGFUSE_LAG has passed: marks it `closing`, runs one final
 * sync of M's whole window (staging is idempotent, so it only adds what earlier syncs missed),
 * then waits until nothing of M is pending or sending — sweeping push jobs for groups with work,
 * so a lost push job cannot hold the month open — and marks it `closed` in the same
 * transaction that checked. A month that does not flush within `flushWaitMs` throws a retryable
 * error: BullMQ retries the job with backoff, and the hourly check re-enqueues it after that.
 * Usage of M that turns up after the close is re-filed into the next open month as a late line
 * (migration 0002), never lost.
 */
export async function closeMonth(
  deps: WorkerDeps,
  monthInput: string,
  options: CloseMonthOptions = {},
): Promise<CloseMonthResult> {
  const month = checkedMonth(monthInput);
  const closableAt = monthCloseAt(month, deps.config.langfuse.lagSeconds);
  if (clock(deps).getTime() < closableAt.getTime()) return { month, status: "open", closableAt };
  const db = deps.database.db;
  const closes = new MonthCloseRepository(db);
  const current = await closes.find(month);
  if (current?.status === "closed") {
    return {
      month,
      status: "closed",
      closedAt: current.closedAt ?? closableAt,
      finalSyncId: null,
      alreadyClosed: true,
    };
  }
  await closes.markClosing(month);

  const syncId = finalSyncId(month);
  if (deps.langfuse) {
    const run = await new SyncRunRepository(db).find(syncId);
    if (run?.status !== "completed") {
      const { start, end } = monthRange(month);
      await runSync(deps, {
        syncId,
        from: start.toISOString(),
        to: end.toISOString(),
        customerId: null,
        trigger: "month-close",
      });
    }
  } else {
    deps.logger.warn({ month }, "Langfuse is not configured: closing the month without a final sync");
  }

  const deadline = Date.now() + (options.flushWaitMs ?? 60_000);
  let swept = false;
  for (;;) {
    const attempt = await closes.closeIfFlushed(month, clock(deps));
    if (attempt.closed) {
      deps.logger.info({ month, closedAt: attempt.closedAt }, "month closed");
      return {
        month,
        status: "closed",
        closedAt: attempt.closedAt,
        finalSyncId: deps.langfuse ? syncId : null,
        alreadyClosed: false,
      };
    }
    if (!swept) {
      await sweep(deps);
      swept = true;
    }
    if (Date.now() >= deadline) {
      throw new RetryableJobError(
        `month ${month} is not flushed yet: ${attempt.work.unsentItems} item(s) and ${attempt.work.pendingEvents} meter event(s) still unsent`,
      );
    }
    await sleep(options.pollMs ?? 1_000);
  }
}

/**
 * The hourly check: every month before the current one that is not closed and whose close time
 * has passed gets a close job (deduplicated per month while one is queued or running).
 */
export async function enqueueDueMonthCloses(deps: WorkerDeps): Promise<MonthKey[]> {
  const now = clock(deps);
  const current = monthOf(now);
  const candidates = new Set(await new MonthCloseRepository(deps.database.db).unclosedMonthsBefore(current));
  candidates.add(prevMonth(current));
  const due = [...candidates]
    .filter((m) => monthCloseAt(m, deps.config.langfuse.lagSeconds).getTime() <= now.getTime())
    .sort();
  const closes = new MonthCloseRepository(deps.database.db);
  const enqueued: MonthKey[] = [];
  for (const month of due) {
    if ((await closes.find(month))?.status === "closed") continue;
    await deps.queues.add("monthClose", { month }, { deduplication: { id: jobId("month-close", month) } });
    enqueued.push(month);
  }
  return enqueued;
}
