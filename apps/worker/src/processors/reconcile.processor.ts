import { monthOf, prevMonth } from "@sparks/core";
import { clock } from "../use-cases/pipeline-context";
import { reconcile } from "../use-cases/reconcile.use-case";
import type { ProcessorDefinition } from "./processor-definition";

/** Job name of the daily run (its `month` is ignored: the current and the previous month). */
export const RECONCILE_DAILY = "reconcileDaily";

/**
 * `reconcile` jobs: one month as asked, or — for the daily scheduler — the current month and
 * the previous one (its invoice may still be open and late lines land in the current one).
 * With `report: true` (`GET /usage/reconciliation`) the job returns the full report.
 */
export const reconcileProcessor: ProcessorDefinition<"reconcile"> = {
  create: (deps) => async (payload, job) => {
    // An API read: one month, the whole report as the job's result (the API returns it as is).
    if (payload.report) return reconcile(deps, { month: payload.month, repair: payload.repair });
    const current = monthOf(clock(deps));
    const months = job.name === RECONCILE_DAILY ? [prevMonth(current), current] : [payload.month];
    const out = [];
    for (const month of months) {
      const report = await reconcile(deps, { month, repair: payload.repair });
      out.push({
        month,
        rows: report.rows.length,
        repairs: report.repairs.map((r) => `${r.action}:${r.identifier ?? "-"}:${r.outcome}`),
        alerts: report.alerts,
      });
    }
    return out;
  },
  options: () => ({ concurrency: 1, lockDuration: 300_000 }),
};
