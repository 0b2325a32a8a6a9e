import type { QueueService } from "@sparks/queues";

export interface FailedJobView {
  queue: string;
  jobId: string;
  name: string;
  failedReason: string;
  attemptsMade: number;
  failedAt: Date | null;
  /** Ledger error ids named in the reason (`ui_<id>`), so the operator can retry them. */
  errorIds: string[];
}

/** BullMQ's failed sets are the operator's error log (SPEC): newest first, per queue. */
export async function listFailedJobs(queues: QueueService, perQueue = 100): Promise<FailedJobView[]> {
  const out: FailedJobView[] = [];
  for (const queue of queues.allQueues()) {
    const jobs = await queue.getFailed(0, Math.max(0, perQueue - 1));
    for (const job of jobs) {
      if (!job) continue;
      const failedReason = job.failedReason ?? "";
      out.push({
        queue: queue.name,
        jobId: String(job.id ?? ""),
        name: job.name,
        failedReason,
        attemptsMade: job.attemptsMade,
        failedAt: job.finishedOn ? new Date(job.finishedOn) : null,
        errorIds: [...new Set(failedReason.match(/\bui_\d+\b/g) ?? [])],
      });
    }
  }
  return out.sort((a, b) => (b.failedAt?.getTime() ?? 0) - (a.failedAt?.getTime() ?? 0));
}
