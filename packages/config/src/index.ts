export type { AggregationMode, AppConfig, LangfuseApiMode, LimitsConfig, MeterApi } from "./app-config";
export { type BillingConfigFile, billingConfigFileSchema, mergeBillingConfig } from "./billing-config.schema";
export { ConfigError } from "./config-error";
export { type EnvVariable, envSchema, type ParsedEnv, SECRET_VARIABLES } from "./env.schema";
export {
  debugEnabled,
  type Env,
  type LoadConfigOptions,
  loadConfig,
  parseEnv,
  secretValues,
} from "./load-config";
