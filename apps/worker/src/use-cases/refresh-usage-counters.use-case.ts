import { enqueueAlert, quotaAlert } from "@sparks/alerts";
import { isTierName, monthOf, NANO_PER_SPARK, parseNanoSparks } from "@sparks/core";
import { QuotaRepository } from "@sparks/db";
import { UsageCounters } from "@sparks/queues";
import type { WorkerDeps } from "../worker-deps";

/**
 * Keeps the Redis counters that `/quota` reads current, and raises the 80% / 100% quota alerts.
 * Called after every sync for the months it touched plus the current month, so a Redis flush
 * is healed by the next sync. Totals are written as "latest state wins" (versioned by the
 * time they were read), so concurrent or replayed refreshes never roll a counter back.
 */
export async function refreshUsageCounters(
  deps: WorkerDeps,
  input: { syncRunId?: string; customerId?: string | null; months?: readonly string[] } = {},
): Promise<{ counters: number; alerts: number }> {
  const now = deps.now?.() ?? new Date();
  const readAt = Date.now();
  const months = new Set<string>([monthOf(now), ...(input.months ?? [])]);
  const ledger = new QuotaRepository(deps.database.db);
  if (input.syncRunId) {
    for (const month of await ledger.monthsOfSyncRun(input.syncRunId)) months.add(month);
  }
  const counters = new UsageCounters({ redis: deps.connection, prefix: deps.queues.prefix });
  let written = 0;
  let alerts = 0;
  for (const month of months) {
    for (const row of await ledger.monthQuotaTotals(month, input.customerId)) {
      const nano = row.exact.startsWith("-") ? 0n : parseNanoSparks(row.exact);
      const whole = nano > 0n ? nano / NANO_PER_SPARK : 0n;
      if (await counters.setMonthTotal(row.customerId, month, whole, readAt)) written++;
      const policy = isTierName(row.tier) ? deps.config.billing.tiers[row.tier] : null;
      const limit = row.customQuota ?? policy?.monthlyQuota ?? null;
      if (limit === null || limit <= 0) continue;
      for (const threshold of [80, 100] as const) {
        // 80% of the limit, compared exactly in whole Sparks.
        if (whole * 100n < BigInt(limit) * BigInt(threshold)) continue;
        // The dedupe key (threshold, customer, month) makes every repeat a no-op downstream.
        const result = await enqueueAlert(
          deps.queues,
          quotaAlert({
            customerId: row.customerId,
            threshold,
            month,
            usedSparks: whole.toString(),
            limitSparks: limit,
          }),
          { logger: deps.logger },
        );
        if (result.queued) alerts++;
      }
    }
  }
  return { counters: written, alerts };
}
