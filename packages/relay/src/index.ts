export {
  type ConvertedBatch,
  type ConverterOptions,
  LegacyBatchConverter,
  otelSpanId,
  otelTraceId,
} from "./legacy-batch.converter";
export { legacyEventBodySchemas } from "./legacy-event.schema";
export { type Delivery, type ForwarderOptions, type ForwarderStats, OtlpForwarder } from "./otlp.forwarder";
export { createRelay, type Relay, type RelayOptions } from "./relay.server";
