export { type ApiLoggerOptions, createLogger, type LoggerOptions, REDACTED_PATHS } from "./logger";
export { createSecretScrubber, secretsFromConfig } from "./secret-scrubber";
