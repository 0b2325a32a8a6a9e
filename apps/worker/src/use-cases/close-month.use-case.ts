import {
  formatCents,
  type MonthKey,
  monthCloseAt,
  monthOf,
  monthRange,
  nextMonth,
  parseMonth,
  prevMonth,
  roundUsdToCents,
  sparksToUsd,
} from "@sparks/core";
import {
  CustomerMonthCloseRepository,
  type CustomerOpenWork,
  MonthCloseRepository,
  SyncRunRepository,
} from "@sparks/db";
import { jobId, PermanentJobError } from "@sparks/queues";
import type { WorkerDeps } from "../worker-deps";
import { clock, sleep } from "./pipeline-context";
import { releaseMonthInvoice } from "./release-month-invoice.use-case";
import { runSync, sweep } from "./run-sync.use-case";

/** Job name of the hourly check on the month-close queue (the per-month jobs use the queue name). */
export const MONTH_CLOSE_CHECK = "monthCloseCheck";

export interface CloseMonthOptions {
  /** How long one attempt waits for the push to flush the month before handing back to BullMQ (default 60 s). */
  flushWaitMs?: number;
  /** Poll interval while waiting (default 1 s). */
  pollMs?: number;
}

export interface StuckCustomer {
  customerId: string;
  reason: string;
  /** What the customer's unsent usage is worth at the list rate, e.g. "12.34" (USD). */
  atRiskUsd: string;
}

export type CloseMonthResult =
  | { month: MonthKey; status: "open"; closableAt: Date }
  | {
      month: MonthKey;
      /** `closed`: every customer is closed; `partial`: some are stuck (alerted), the rest closed. */
      status: "closed" | "partial";
      closedAt: Date | null;
      finalSyncId: string | null;
      alreadyClosed: boolean;
      closedCustomers: string[];
      stuck: StuckCustomer[];
      releases: Record<string, string>;
    };

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
  const perCustomer = new CustomerMonthCloseRepository(db);
  const current = await closes.find(month);
  if (current?.status === "closed") {
    // Everyone is closed; only held invoices that could not be released earlier remain.
    const releases = await releaseWaiting(deps, month);
    return {
      month,
      status: "closed",
      closedAt: current.closedAt ?? closableAt,
      finalSyncId: null,
      alreadyClosed: true,
      closedCustomers: [],
      stuck: [],
      releases,
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

  const { end: monthEnd } = monthRange(month);
  const deadline = Date.now() + (options.flushWaitMs ?? 60_000);
  const closedNow: string[] = [];
  const releases: Record<string, string> = {};
  let swept = false;
  for (;;) {
    const already = new Set(
      (await perCustomer.listMonth(month)).filter((c) => c.status === "closed").map((c) => c.customerId),
    );
    const candidates = (await perCustomer.customersOfMonth(month, monthEnd)).filter((id) => !already.has(id));
    const attempt = await perCustomer.closeFlushed(month, candidates, clock(deps));
    for (const customerId of attempt.closed) {
      closedNow.push(customerId);
      deps.logger.info({ month, customerId }, "customer month closed");
      releases[customerId] = await releaseSafely(deps, customerId, month);
    }
    if (attempt.stuck.length === 0) {
      const global = await closes.closeIfFlushed(month, clock(deps));
      if (global.closed) {
        deps.logger.info({ month, closedAt: global.closedAt }, "month closed");
        return {
          month,
          status: "closed",
          closedAt: global.closedAt,
          finalSyncId: deps.langfuse ? syncId : null,
          alreadyClosed: false,
          closedCustomers: closedNow,
          stuck: [],
          releases,
        };
      }
    }
    if (!swept) {
      await sweep(deps);
      swept = true;
    }
    // A customer without a Stripe id cannot make progress by waiting: don't wait for it.
    const canProgress = attempt.stuck.some((w) => w.stripeCustomerId !== null);
    if (Date.now() >= deadline || (!canProgress && attempt.stuck.length > 0)) {
      const stuck = await alertStuck(deps, month, attempt.stuck);
      return {
        month,
        status: "partial",
        closedAt: null,
        finalSyncId: deps.langfuse ? syncId : null,
        alreadyClosed: false,
        closedCustomers: closedNow,
        stuck,
        releases,
      };
    }
    await sleep(options.pollMs ?? 1_000);
  }
}

/** A release that fails (Stripe down) is logged and retried by the hourly check, never fatal to the close. */
async function releaseSafely(deps: WorkerDeps, customerId: string, month: MonthKey): Promise<string> {
  try {
    const outcome = await releaseMonthInvoice(deps, customerId, month);
    return outcome.action;
  } catch (e) {
    deps.logger.warn(
      { month, customerId, err: e instanceof Error ? e.message : String(e) },
      "invoice release failed; retried hourly",
    );
    return "error";
  }
}

/** Held invoices of closed customer-months not released yet (Stripe was down, totals disagreed). */
async function releaseWaiting(deps: WorkerDeps, month: MonthKey): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const waiting = await new CustomerMonthCloseRepository(deps.database.db).unreleased(nextMonth(month));
  for (const w of waiting.filter((x) => x.month === month && x.invoiceId !== null)) {
    out[w.customerId] = await releaseSafely(deps, w.customerId, month);
  }
  return out;
}

function stuckReason(w: CustomerOpenWork): string {
  if (w.stripeCustomerId === null) return "the customer has no Stripe customer id: its usage cannot be sent";
  const parts = [];
  if (w.unsentItems > 0) parts.push(`${w.unsentItems} usage item(s) not sent yet`);
  if (w.pendingEvents > 0) parts.push(`${w.pendingEvents} meter event(s) not acknowledged`);
  return parts.join(", ");
}

/** One alert per stuck customer and month, naming what its unsent usage is worth. */
async function alertStuck(
  deps: WorkerDeps,
  month: MonthKey,
  work: CustomerOpenWork[],
): Promise<StuckCustomer[]> {
  const out: StuckCustomer[] = [];
  for (const w of work) {
    const atRiskUsd = formatCents(
      roundUsdToCents(sparksToUsd(w.atRiskNano, deps.config.billing.sparkRateUsd)),
    );
    const reason = stuckReason(w);
    out.push({ customerId: w.customerId, reason, atRiskUsd });
    deps.logger.warn(
      { month, customerId: w.customerId, reason, atRiskUsd },
      "customer month cannot close yet",
    );
    await deps.queues.add(
      "alerts",
      {
        kind: "month_close_stuck",
        dedupeKey: `month_close_stuck:${w.customerId}:${month}`,
        customerId: w.customerId,
        title: `${month} cannot close for ${w.customerId}: ${atRiskUsd} USD at risk`,
        text: `${reason}. Other customers close normally; this customer's invoice stays held. See docs/month-end.md.`,
        data: {
          month,
          reason,
          at_risk_usd: atRiskUsd,
          unsent_items: w.unsentItems,
          pending_events: w.pendingEvents,
        },
      },
      { jobId: jobId("alert", "month_close_stuck", w.customerId, month) },
    );
  }
  return out;
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
  // Closed months whose held invoices were not released yet (Stripe down, a mismatch fixed since).
  for (const w of await new CustomerMonthCloseRepository(deps.database.db).unreleased(current)) {
    if (w.invoiceId !== null) candidates.add(w.month);
  }
  const due = [...candidates]
    .filter((m) => monthCloseAt(m, deps.config.langfuse.lagSeconds).getTime() <= now.getTime())
    .sort();
  const closes = new MonthCloseRepository(deps.database.db);
  const enqueued: MonthKey[] = [];
  const waiting = new Set(
    (await new CustomerMonthCloseRepository(deps.database.db).unreleased(current))
      .filter((w) => w.invoiceId !== null)
      .map((w) => w.month),
  );
  for (const month of due) {
    if ((await closes.find(month))?.status === "closed" && !waiting.has(month)) continue;
    await deps.queues.add("monthClose", { month }, { deduplication: { id: jobId("month-close", month) } });
    enqueued.push(month);
  }
  return enqueued;
}
