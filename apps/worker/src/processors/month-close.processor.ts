import { closeMonth, enqueueDueMonthCloses, MONTH_CLOSE_CHECK } from "../use-cases/close-month.use-case";
import type { ProcessorDefinition } from "./processor-definition";

/**
 * The month-close queue carries two job names: the hourly `monthCloseCheck` (its `month` is
 * ignored: it closes whatever is due) and one `monthClose` job per month to close.
 */
export const monthCloseProcessor: ProcessorDefinition<"monthClose"> = {
  create: (deps) => async (payload, job) => {
    if (job.name === MONTH_CLOSE_CHECK) return { enqueued: await enqueueDueMonthCloses(deps) };
    const result = await closeMonth(deps, payload.month);
    if (result.status === "open") {
      return {
        month: result.month,
        status: result.status,
        closableAt: result.closableAt.toISOString(),
      };
    }
    // `partial`: the stuck customers were alerted; the hourly check runs the close again.
    return {
      month: result.month,
      status: result.status,
      closedAt: result.closedAt?.toISOString() ?? null,
      closedCustomers: result.closedCustomers,
      stuck: result.stuck,
      releases: result.releases,
    };
  },
  // The final sync holds the sync lock and the flush wait polls: a long lock, one at a time.
  options: () => ({ concurrency: 1, lockDuration: 120_000 }),
};
