import type { UsageGroup } from "@sparks/db";
import { jobId, type QueueService } from "@sparks/queues";

/** The deduplication id of a group's push job (one push job per customer, category and month). */
export function pushDedupeId(group: UsageGroup): string {
  return jobId("push", group.customerId, group.category, group.month);
}

/**
 * One push job per group at a time: `keepLastIfActive` lets a sweep that arrives while the
 * group's job runs queue exactly one follow-up, so new pending items are never stranded.
 */
export async function enqueuePush(
  deps: { queues: QueueService },
  groups: readonly UsageGroup[],
): Promise<number> {
  const seen = new Set<string>();
  for (const group of groups) {
    const id = pushDedupeId(group);
    if (seen.has(id)) continue;
    seen.add(id);
    await deps.queues.add(
      "pushMeterEvents",
      { customerId: group.customerId, category: group.category as "ai_tokens", month: group.month },
      { deduplication: { id, keepLastIfActive: true } },
    );
  }
  return seen.size;
}
