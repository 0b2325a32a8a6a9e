import type { UsageGroup } from "@sparks/db";
import { jobId } from "@sparks/queues";
import type { WorkerDeps } from "../worker-deps";

export const SYNC_LOCK_KEY = "sparks:sync";
export const WATERMARK_NAME = "langfuse";

export function clock(deps: WorkerDeps): Date {
  return deps.now ? deps.now() : new Date();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function pushDedupeId(group: UsageGroup): string {
  return jobId("push", group.customerId, group.category, group.month);
}

/**
 * One push job per group at a time: `keepLastIfActive` lets a sweep that arrives while the
 * group's job runs queue exactly one follow-up, so new pending items are never stranded.
 */
export async function enqueuePush(deps: WorkerDeps, groups: readonly UsageGroup[]): Promise<number> {
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
