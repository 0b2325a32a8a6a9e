export { type CreateLoggerOptions, createLogger } from "./create-logger";
