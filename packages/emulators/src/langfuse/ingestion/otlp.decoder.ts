import protobuf from "protobufjs";

/**
 * OTLP/HTTP trace export bodies (opentelemetry-proto `ExportTraceServiceRequest`), JSON or
 * protobuf, decoded into one plain shape. Only the trace messages are declared: field numbers and
 * types are those of opentelemetry/proto/{collector/trace,trace,common,resource}/v1/*.proto.
 */
const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; fixed32 flags = 16;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10; repeated Event events = 11;
  uint32 dropped_events_count = 12; repeated Link links = 13; uint32 dropped_links_count = 14; Status status = 15;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
`;

const requestType = protobuf.parse(OTLP_TRACE_PROTO).root.lookupType("otlp.ExportTraceServiceRequest");

export class OtlpDecodeError extends Error {}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  startTimeMs: number;
  endTimeMs: number | null;
  attributes: Record<string, unknown>;
  statusCode: number;
  statusMessage: string | null;
}

export interface OtlpScopeSpans {
  resourceAttributes: Record<string, unknown>;
  scope: { name: string; version: string | null; attributes: Record<string, unknown> };
  spans: OtlpSpan[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** An OTLP AnyValue as plain JS, the way Langfuse's `convertValueToPlainJavascript` reads it. */
function anyValue(value: unknown): unknown {
  if (!isObj(value)) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (isObj(value.arrayValue)) return ((value.arrayValue.values as unknown[]) ?? []).map(anyValue);
  if (isObj(value.kvlistValue)) return keyValues(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return String(value.bytesValue);
  return null;
}

function keyValues(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list) if (isObj(kv) && typeof kv.key === "string") out[kv.key] = anyValue(kv.value);
  return out;
}

/**
 * An id as lowercase hex of `bytes` bytes. OTLP/JSON sends hex; protobuf sends bytes (decoded to
 * base64 strings here). Like Langfuse's `validateOtelSpanIds` (packages/shared/src/server/otel/
 * utils.ts), an absent id or one of the wrong length rejects the span.
 */
function idOf(value: unknown, bytes: number, label: string, required: boolean): string | null {
  if (value === undefined || value === null || value === "") {
    if (required) throw new OtlpDecodeError(`${label} is absent`);
    return null;
  }
  if (typeof value !== "string") throw new OtlpDecodeError(`${label} is not an id`);
  const hex = new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`);
  if (hex.test(value)) return value.toLowerCase();
  const decoded = Buffer.from(value, "base64");
  if (decoded.length === bytes && /^[A-Za-z0-9+/=_-]+$/.test(value)) return decoded.toString("hex");
  if (!required && decoded.length === 0) return null;
  throw new OtlpDecodeError(`${label} has the wrong length (expected ${bytes} bytes)`);
}

function nanosToMs(value: unknown, label: string): number | null {
  if (value === undefined || value === null || value === "" || value === "0" || value === 0) return null;
  const text = typeof value === "object" ? String(value) : String(value);
  if (!/^\d+$/.test(text)) throw new OtlpDecodeError(`${label} is not a count of nanoseconds`);
  return Number(BigInt(text) / 1_000_000n);
}

function normalize(request: unknown): OtlpScopeSpans[] {
  if (!isObj(request)) throw new OtlpDecodeError("the body is not an ExportTraceServiceRequest object");
  const resourceSpans = request.resourceSpans;
  if (resourceSpans === undefined) return [];
  if (!Array.isArray(resourceSpans)) throw new OtlpDecodeError("resourceSpans is not an array");
  const out: OtlpScopeSpans[] = [];
  resourceSpans.forEach((rs, i) => {
    if (!isObj(rs)) throw new OtlpDecodeError(`resourceSpans[${i}] is not an object`);
    const resourceAttributes = keyValues(isObj(rs.resource) ? rs.resource.attributes : undefined);
    const scopeSpans = (rs.scopeSpans ?? []) as unknown;
    if (!Array.isArray(scopeSpans))
      throw new OtlpDecodeError(`resourceSpans[${i}].scopeSpans is not an array`);
    scopeSpans.forEach((ss, j) => {
      if (!isObj(ss)) throw new OtlpDecodeError(`resourceSpans[${i}].scopeSpans[${j}] is not an object`);
      const scope = isObj(ss.scope) ? ss.scope : {};
      const spans = (ss.spans ?? []) as unknown;
      if (!Array.isArray(spans))
        throw new OtlpDecodeError(`resourceSpans[${i}].scopeSpans[${j}].spans is not an array`);
      out.push({
        resourceAttributes,
        scope: {
          name: typeof scope.name === "string" ? scope.name : "",
          version: typeof scope.version === "string" && scope.version !== "" ? scope.version : null,
          attributes: keyValues(scope.attributes),
        },
        spans: spans.map((span, k): OtlpSpan => {
          const at = `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`;
          if (!isObj(span)) throw new OtlpDecodeError(`${at} is not an object`);
          const startTimeMs = nanosToMs(span.startTimeUnixNano, `${at}.startTimeUnixNano`);
          if (startTimeMs === null) throw new OtlpDecodeError(`${at}.startTimeUnixNano is absent`);
          const status = isObj(span.status) ? span.status : {};
          return {
            traceId: idOf(span.traceId, 16, `${at}.traceId`, true) as string,
            spanId: idOf(span.spanId, 8, `${at}.spanId`, true) as string,
            parentSpanId: idOf(span.parentSpanId, 8, `${at}.parentSpanId`, false),
            name: typeof span.name === "string" ? span.name : "",
            startTimeMs,
            endTimeMs: nanosToMs(span.endTimeUnixNano, `${at}.endTimeUnixNano`),
            attributes: keyValues(span.attributes),
            statusCode: Number(status.code ?? 0),
            statusMessage:
              typeof status.message === "string" && status.message !== "" ? status.message : null,
          };
        }),
      });
    });
  });
  return out;
}

/** Decodes a request body by content type; throws OtlpDecodeError naming what is wrong. */
export function decodeOtlpTraces(body: Buffer, contentType: string | undefined): OtlpScopeSpans[] {
  const type = (contentType ?? "").split(";")[0]?.trim().toLowerCase();
  if (type === "application/x-protobuf" || type === "application/protobuf") {
    let message: protobuf.Message;
    try {
      message = requestType.decode(body);
    } catch (error) {
      throw new OtlpDecodeError(
        `the protobuf body is not an ExportTraceServiceRequest: ${(error as Error).message}`,
      );
    }
    return normalize(
      requestType.toObject(message, { longs: String, bytes: String, defaults: false, oneofs: false }),
    );
  }
  if (type === "application/json") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch (error) {
      throw new OtlpDecodeError(`the JSON body does not parse: ${(error as Error).message}`);
    }
    return normalize(parsed);
  }
  throw new OtlpDecodeError(
    `unsupported content type ${JSON.stringify(contentType ?? "")}: send application/json or application/x-protobuf`,
  );
}
