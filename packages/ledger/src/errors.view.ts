import { formatSparks, formatUsdExact, sparksToUsd } from "@sparks/core";
import type { UsageItemStatus } from "@sparks/db";
import { type LedgerItem, type UsageGroup, UsageItemRepository } from "@sparks/db";
import { errorIdOf } from "./error-id";
import type { LedgerDeps } from "./ledger-deps";
import { pushDedupeId } from "./push-jobs";

/** What the error list reads: the ledger, the push queue (next retry) and the Spark rate. */
export type ErrorListDeps = Pick<LedgerDeps, "config" | "database" | "queues">;

export interface ErrorView {
  errorId: string;
  itemId: number;
  traceId: string;
  usageCategory: string;
  customerId: string | null;
  customerRef: string | null;
  month: string;
  occurredAt: Date;
  status: UsageItemStatus;
  reason: string | null;
  attempts: number;
  /** When BullMQ will try the group's push again (failed items stay failed: null). */
  nextRetryAt: Date | null;
  amountAtRisk: { sparks: string; usd: string };
}

export interface RetryOutcome {
  errorId: string;
  /** null when the id names no usage item. */
  status: UsageItemStatus | null;
  reason: string | null;
}

/** Accepts `ui_<id>` (what `listErrors` gives) or the bare usage item id. */
export function parseErrorId(errorId: string): number | null {
  const match = /^(?:ui_)?(\d{1,15})$/.exec(errorId.trim());
  return match ? Number(match[1]) : null;
}

async function nextRetryOf(deps: ErrorListDeps, item: LedgerItem): Promise<Date | null> {
  if (item.customerId === null || item.status === "quarantined" || item.status === "discrepancy") return null;
  const queue = deps.queues.queue("pushMeterEvents");
  const group: UsageGroup = { customerId: item.customerId, category: item.usageCategory, month: item.month };
  const jobId = await queue.getDeduplicationJobId(pushDedupeId(group));
  if (!jobId) return null;
  const job = await queue.getJob(jobId);
  if (!job || !(await job.isDelayed())) return null;
  return new Date(job.timestamp + job.delay);
}

/** Failed, quarantined and discrepancy items with the amount at risk (Sparks and USD). */
export async function listErrors(
  deps: ErrorListDeps,
  options: { limit?: number } = {},
): Promise<ErrorView[]> {
  const items = await new UsageItemRepository(deps.database.db).listErrors(options.limit ?? 1_000);
  const out: ErrorView[] = [];
  for (const item of items) {
    const atRisk = item.exactNano < 0n ? -item.exactNano : item.exactNano;
    out.push({
      errorId: errorIdOf(item.id),
      itemId: item.id,
      traceId: item.traceId,
      usageCategory: item.usageCategory,
      customerId: item.customerId,
      customerRef: item.customerRef,
      month: item.month,
      occurredAt: item.occurredAt,
      status: item.status,
      reason: item.reason,
      attempts: item.attempts,
      nextRetryAt: await nextRetryOf(deps, item),
      amountAtRisk: {
        sparks: formatSparks(atRisk),
        usd: formatUsdExact(sparksToUsd(atRisk, deps.config.billing.sparkRateUsd)),
      },
    });
  }
  return out;
}
