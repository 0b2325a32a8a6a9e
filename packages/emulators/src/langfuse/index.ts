export { decodeCursor, encodeCursor } from "./cursor.codec";
export {
  type FlowiseTrafficOptions,
  type GeneratedTraceRecord,
  generateFlowiseTraffic,
  type TrafficDefect,
  type TrafficKind,
} from "./flowise-traffic.generator";
export { IngestionWriter, metadataRoundTrip } from "./ingestion/ingestion.writer";
export { handleLegacyIngestion, type LegacyIngestionMode } from "./ingestion/legacy-ingestion.handler";
export { writeOtlpSpans } from "./ingestion/otel-span.mapper";
export {
  decodeOtlpTraces,
  OtlpDecodeError,
  type OtlpScopeSpans,
  type OtlpSpan,
} from "./ingestion/otlp.decoder";
export {
  createLangfuseEmulator,
  type LangfuseEmulator,
  type LangfuseEmulatorOptions,
} from "./langfuse.emulator";
export {
  type FaultDecision,
  type InjectedFault,
  LangfuseFaults,
  type RandomFailureOptions,
} from "./langfuse.faults";
export { LANGFUSE_ROUTES, type LangfuseRouteKey, type LangfuseRouteName } from "./langfuse.routes";
export {
  LangfuseStore,
  type LangfuseStoreOptions,
  type StoredObservation,
  type StoredTrace,
} from "./langfuse.store";
export {
  type EmulatedObservation,
  type EmulatedTrace,
  type EmulatedTraceRecord,
  OBSERVATION_LEVELS,
  OBSERVATION_TYPES,
  type ObservationLevel,
  type ObservationType,
  type TimeInput,
} from "./langfuse.types";
export { LangfuseEmulatorInputError } from "./langfuse-emulator.error";
export { parseTraceRecords } from "./langfuse-fixture.schema";
export {
  createLangfuseSchemaValidator,
  LANGFUSE_OPENAPI_PATH,
  type LangfuseSchemaValidator,
  type SchemaCheck,
} from "./langfuse-openapi.validator";
export { LangfuseRequestStats } from "./langfuse-request.stats";
export { FIELD_GROUPS, type FieldGroup } from "./observation.serializer";
export { SeededRandom } from "./seeded-random";
