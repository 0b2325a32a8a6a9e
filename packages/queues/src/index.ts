export {
  JOB_NAMES,
  type JobCatalog,
  type JobInput,
  type JobName,
  type JobPayload,
  jobCatalog,
  jobId,
} from "./job-catalog";
export { InvalidPayloadError, JobError, PermanentJobError, RetryableJobError } from "./job-errors";
export {
  DEFAULT_JOB_WAIT_MS,
  JobFailedError,
  JobWaitTimeoutError,
  type WaitForJobResultOptions,
  waitForJobResult,
} from "./job-result";
export {
  ERROR_LOG_INTERVAL_MS,
  type QueueErrorLogger,
  QueueService,
  type QueueServiceOptions,
} from "./queue.service";
export { createQueueWorker, type JobHandler, type QueueWorkerOptions } from "./queue-worker";
export {
  type QuotaSnapshot,
  QuotaStore,
  type QuotaStoreOptions,
  type ReserveOutcome,
  type SettleOutcome,
} from "./quota-store";
export { createRedisConnection, pingRedis, type RedisRole } from "./redis-connection";
export { checkRedisEpoch, type EpochCheck, redisEpochKey } from "./redis-epoch";
export { RedisRateLimiter, type RedisRateLimiterOptions } from "./redis-rate-limiter";
export {
  type MonthTotal,
  USAGE_COUNTER_TTL_SECONDS,
  UsageCounters,
  type UsageCountersOptions,
} from "./usage-counters";
