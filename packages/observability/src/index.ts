export { type ApiLoggerOptions, createLogger, type LoggerOptions, REDACTED_PATHS } from "./logger";
export {
  alertsTotal,
  type CountableQueue,
  collectDefaultMetricsOnce,
  itemsFailed,
  itemsQuarantined,
  itemsSent,
  langfuseRequests,
  metricsRegistry,
  queueDepth,
  queueFailed,
  refreshQueueMetrics,
  refreshSyncLag,
  stripeRequests,
  syncLagSeconds,
  webhookEvents,
} from "./metrics";
export {
  type MetricsRedis,
  mergedMetricsText,
  PUBLISHED_METRICS,
  readPublishedMetrics,
  startMetricsPublisher,
} from "./metrics-publisher";
export { createSecretScrubber, secretsFromConfig } from "./secret-scrubber";
