import { enqueueAlert, quotaAlert } from "@sparks/alerts";
import { billedStatusesSqlList, isTierName, monthOf, NANO_PER_SPARK, parseNanoSparks } from "@sparks/core";
import { executeRows } from "@sparks/db";
import { UsageCounters } from "@sparks/queues";
import { sql } from "drizzle-orm";
import type { WorkerDeps } from "../worker-deps";

type MonthTotalRow = {
  customer_id: string;
  month: string;
  exact: string;
  tier: string;
  custom_quota: number | null;
};

// What counts toward a month's usage: the same statuses the report counts.
const COUNTED = sql.raw(billedStatusesSqlList());

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
  if (input.syncRunId) {
    const touched = await executeRows<{ month: string }>(
      deps.database.db,
      sql`select distinct month from usage_items where sync_run_id = ${input.syncRunId}`,
    );
    for (const row of touched) months.add(row.month);
  }
  const counters = new UsageCounters({ redis: deps.connection, prefix: deps.queues.prefix });
  let written = 0;
  let alerts = 0;
  for (const month of months) {
    const rows = await executeRows<MonthTotalRow>(
      deps.database.db,
      sql`select u.customer_id, u.month, coalesce(sum(u.exact_sparks), 0)::text as exact, c.tier, c.custom_quota
            from usage_items u join customers c on c.id = u.customer_id
           where u.month = ${month} and u.status in ${COUNTED}
             ${input.customerId ? sql`and u.customer_id = ${input.customerId}` : sql``}
           group by u.customer_id, u.month, c.tier, c.custom_quota`,
    );
    for (const row of rows) {
      const nano = row.exact.startsWith("-") ? 0n : parseNanoSparks(row.exact);
      const whole = nano > 0n ? nano / NANO_PER_SPARK : 0n;
      if (await counters.setMonthTotal(row.customer_id, row.month, whole, readAt)) written++;
      const policy = isTierName(row.tier) ? deps.config.billing.tiers[row.tier] : null;
      const limit = row.custom_quota ?? policy?.monthlyQuota ?? null;
      if (limit === null || limit <= 0) continue;
      for (const threshold of [80, 100] as const) {
        // 80% of the limit, compared exactly in whole Sparks.
        if (whole * 100n < BigInt(limit) * BigInt(threshold)) continue;
        // The dedupe key (threshold, customer, month) makes every repeat a no-op downstream.
        const result = await enqueueAlert(
          deps.queues,
          quotaAlert({
            customerId: row.customer_id,
            threshold,
            month: row.month,
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
