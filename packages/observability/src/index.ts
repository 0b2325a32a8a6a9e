export { type LogFormat, type LogFormatContext, resolveLogFormat } from "./log-format";
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
export { RepeatedLogGate } from "./repeated-log.gate";
export { createSecretScrubber, secretsFromConfig } from "./secret-scrubber";
