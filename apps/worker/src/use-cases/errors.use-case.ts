import { formatSparks, formatUsdExact, sparksToUsd } from "@sparks/core";
import type { UsageItemStatus } from "@sparks/db";
import {
  executeRows,
  type LedgerItem,
  MeterEventRepository,
  type UsageGroup,
  UsageItemRepository,
} from "@sparks/db";
import { sql } from "drizzle-orm";
import type { WorkerDeps } from "../worker-deps";
import { errorIdOf } from "./error-id";
import { ingestTraces, ResolutionCache } from "./ingest-traces.use-case";
import { enqueuePush, pushDedupeId } from "./pipeline-context";

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

async function nextRetryOf(deps: WorkerDeps, item: LedgerItem): Promise<Date | null> {
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
export async function listErrors(deps: WorkerDeps, options: { limit?: number } = {}): Promise<ErrorView[]> {
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

/**
 * Operator retry. A quarantined item is re-evaluated: its trace is re-derived from staging and
 * its customer resolved again (after the mapping was fixed it becomes pending). A failed item
 * goes back to `sending` with its persisted meter event (same identifier and value) and its
 * group is re-queued. Returns each item's status afterwards.
 */
export async function retryErrors(deps: WorkerDeps, errorIds: readonly string[]): Promise<RetryOutcome[]> {
  const db = deps.database.db;
  const repo = new UsageItemRepository(db);
  const parsed = errorIds.map((errorId) => ({ errorId, id: parseErrorId(errorId) }));
  const ids = parsed.flatMap((p) => (p.id === null ? [] : [p.id]));
  const items = await db.transaction((tx) => new UsageItemRepository(tx).findByIds(ids));
  const failed = items.filter((i) => i.status === "failed" && i.meterEventId !== null).map((i) => i.id);
  const quarantinedTraces = [
    ...new Set(items.filter((i) => i.status === "quarantined").map((i) => i.traceId)),
  ];
  const groups: UsageGroup[] = [];
  if (failed.length > 0) {
    await db.transaction(async (tx) => {
      groups.push(...(await new MeterEventRepository(tx).resendForItems(failed)));
      await new UsageItemRepository(tx).resendFailed(failed);
    });
  }
  if (quarantinedTraces.length > 0) {
    await ingestTraces(deps, { traceIds: quarantinedTraces, syncRunId: null }, new ResolutionCache());
    const after = await db.transaction((tx) => new UsageItemRepository(tx).lockByTraceIds(quarantinedTraces));
    for (const item of after) {
      if (item.status === "pending" && item.customerId !== null) {
        groups.push({ customerId: item.customerId, category: item.usageCategory, month: item.month });
      }
    }
  }
  await enqueuePush(deps, groups);
  const statuses = await repo.statusesOf(ids);
  const reasons = new Map(
    (await db.transaction((tx) => new UsageItemRepository(tx).findByIds(ids))).map((i) => [i.id, i.reason]),
  );
  return parsed.map(({ errorId, id }) => ({
    errorId,
    status: id === null ? null : (statuses.get(id) ?? null),
    reason: id === null ? "not an error id" : (reasons.get(id) ?? (statuses.has(id) ? null : "no such item")),
  }));
}

/**
 * A push job that runs again after it failed (BullMQ's retry, or an operator's in Bull Board)
 * resends its group's failed meter events: same identifiers and values, so a delivery that did
 * happen is answered as a duplicate, never billed twice. Returns how many items went back.
 */
export async function resendFailedGroup(deps: WorkerDeps, group: UsageGroup): Promise<number> {
  const db = deps.database.db;
  const rows = await executeRows<{ id: unknown }>(
    db,
    sql`select id from usage_items
         where customer_id = ${group.customerId} and usage_category = ${group.category}
           and month = ${group.month} and status = 'failed' and meter_event_id is not null`,
  );
  const ids = rows.map((r) => Number(r.id));
  if (ids.length === 0) return 0;
  await db.transaction(async (tx) => {
    await new MeterEventRepository(tx).resendForItems(ids);
    await new UsageItemRepository(tx).resendFailed(ids);
  });
  return ids.length;
}
