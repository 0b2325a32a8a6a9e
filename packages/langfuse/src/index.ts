export { BILLING_METADATA_KEYS, pickBillingMetadata } from "./billing-metadata";
export { costToDecimal } from "./cost.decimal";
export { LangfuseError, type LangfuseErrorOptions } from "./langfuse.error";
export { createLangfuseReader } from "./langfuse.reader";
export type {
  LangfuseApiMode,
  LangfuseReader,
  LangfuseReaderOptions,
  LangfuseReaderStats,
  ObservationRecord,
  ReadOptions,
  ReadWindow,
  RetryInfo,
} from "./langfuse.types";
export { TRACE_RECORD_PREFIX, TRACE_RECORD_TYPE } from "./observation.mapper";
export { parseRetryAfter } from "./retry-after.parser";
export { splitWindow } from "./window.split";
