export {
  type ApiLoggerOptions,
  createLogger,
  createSecretScrubber,
  REDACTED_PATHS,
  secretsFromConfig,
} from "@sparks/observability";
export type { ApiDeps, HomePageDeps, RouteDeps, RoutePluginOptions } from "./api-deps";
export { type Auth0PluginOptions, auth0 } from "./auth/auth0.plugin";
export { type CustomerScope, resolveCustomerScope } from "./auth/customer-scope";
export { ADMIN_PERMISSION, type AuthMode, type Identity, type Role } from "./auth/identity";
export {
  createTokenVerifier,
  normalizeIssuer,
  TokenVerifier,
  type VerifiedToken,
} from "./auth/token-verifier";
export { buildApp } from "./build-app";
export { registerErrorHandlers, type ValidationIssue } from "./errors/error-handler";
export {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  HttpError,
  NotFoundError,
  ServiceUnavailableError,
  UnauthorizedError,
} from "./errors/http-errors";
export { DEMO_ADMIN_SUB, type DemoAccess } from "./home-page/demo-access";
export { metricsRegistry } from "./routes/metrics.routes";
export { exitOnSignals, type ShutdownOptions } from "./shutdown";
export { type ApiHandle, DEFAULT_REDIS_URL, type StartApiOptions, startApi } from "./start-api";
export { createBillingStripe } from "./use-cases/billing-stripe";
export {
  parseUsdPerSpark,
  type SetRateInput,
  type SetRateResult,
  SetRateUseCase,
} from "./use-cases/set-rate.use-case";
export { type SignupResult, SignupUseCase } from "./use-cases/signup.use-case";
export { type UsageReport, UsageReportUseCase } from "./use-cases/usage-report.use-case";
