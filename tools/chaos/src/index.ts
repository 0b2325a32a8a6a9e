export { ChaosDeadlineError, type ChaosRunResult, runChaos } from "./chaos.run";
export type { ChaosVerdict } from "./chaos.verify";
export { type ChaosPlan, FULL_PLAN, SMOKE_PLAN } from "./chaos-plan";
export { type ExpectedUsage, expectedUsage, stripeByGroup } from "./expected-usage";
export { type LoadOptions, type LoadResult, runLoad } from "./load.run";
export { isWrongAnswer, type QuotaSample, type QuotaTruth, QuotaWatch } from "./quota-watch";
export {
  REDIS_WIPE_OPTIONS,
  type RedisWipeOptions,
  type RedisWipeResult,
  runRedisWipe,
  type WipeKind,
  type WipeMeasurement,
} from "./redis-wipe.run";
export { renderTable } from "./summary.table";
