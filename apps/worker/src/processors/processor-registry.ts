import { alertsProcessor } from "./alerts.processor";
import { monthCloseProcessor } from "./month-close.processor";
import type { ProcessorRegistry } from "./processor-definition";
import { pushMeterEventsProcessor } from "./push-meter-events.processor";
import { quotaRefreshProcessor } from "./quota-refresh.processor";
import { reconcileProcessor } from "./reconcile.processor";
import { retentionProcessor } from "./retention.processor";
import { retryErrorsProcessor } from "./retry-errors.processor";
import { stripeWebhooksProcessor } from "./stripe-webhooks.processor";
import { syncUsageProcessor } from "./sync-usage.processor";

export type { ProcessorDefinition, ProcessorRegistry } from "./processor-definition";

/** Every queue of the job catalog and the processor that runs it (`createWorkers` may run a subset). */
export const processors: ProcessorRegistry = {
  alerts: alertsProcessor,
  syncUsage: syncUsageProcessor,
  pushMeterEvents: pushMeterEventsProcessor,
  stripeWebhooks: stripeWebhooksProcessor,
  monthClose: monthCloseProcessor,
  reconcile: reconcileProcessor,
  retention: retentionProcessor,
  retryErrors: retryErrorsProcessor,
  quotaRefresh: quotaRefreshProcessor,
};
