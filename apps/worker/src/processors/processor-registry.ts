import type { JobHandler, JobName, QueueWorkerOptions } from "@sparks/queues";
import type { Job } from "bullmq";
import type { WorkerDeps } from "../worker-deps";
import { alertsProcessor } from "./alerts.processor";
import { monthCloseProcessor } from "./month-close.processor";
import { pushMeterEventsProcessor } from "./push-meter-events.processor";
import { quotaRefreshProcessor } from "./quota-refresh.processor";
import { reconcileProcessor } from "./reconcile.processor";
import { retentionProcessor } from "./retention.processor";
import { stripeWebhooksProcessor } from "./stripe-webhooks.processor";
import { syncUsageProcessor } from "./sync-usage.processor";

export interface ProcessorDefinition<N extends JobName> {
  create(deps: WorkerDeps): JobHandler<N>;
  /** Called once BullMQ will not try the job again (attempts spent, unrecoverable, stalled). */
  onFinalFailure?(deps: WorkerDeps, job: Job, error: Error): Promise<void>;
  options?(deps: WorkerDeps): Partial<Pick<QueueWorkerOptions, "concurrency" | "limiter" | "lockDuration">>;
}

export type ProcessorRegistry = { [N in JobName]?: ProcessorDefinition<N> };

/**
 * One processor file per queue registers itself here. A queue without a processor simply
 * has no worker in this process.
 */
export const processors: ProcessorRegistry = {
  alerts: alertsProcessor,
  syncUsage: syncUsageProcessor,
  pushMeterEvents: pushMeterEventsProcessor,
  stripeWebhooks: stripeWebhooksProcessor,
  monthClose: monthCloseProcessor,
  reconcile: reconcileProcessor,
  retention: retentionProcessor,
  quotaRefresh: quotaRefreshProcessor,
};
