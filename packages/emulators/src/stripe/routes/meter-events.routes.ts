import { newId } from "../stripe.ids";
import type { RequestContext, StripeRouter } from "../stripe.router";
import type { StripeStore } from "../stripe.store";
import type { MeterObject, StoredMeterEvent } from "../stripe.types";
import { StripeApiError } from "../stripe-api.error";
import type { FormObject, FormValue } from "../stripe-form.parser";
import { checkParams, optObj, reqStr } from "../stripe-params";

const MAX_AGE_SEC = 35 * 86_400;
const MAX_AHEAD_SEC = 5 * 60;
const SESSION_TTL_MS = 15 * 60 * 1000;
const V1_KEYS = new Set(["event_name", "payload", "identifier", "timestamp", "expand"]);
const WHOLE = /^-?\d+$/;

interface PreparedEvent {
  meter: MeterObject;
  customer: string;
  value: number;
  identifier: string;
  timestamp: number;
  payload: Record<string, string>;
  eventName: string;
}

/**
 * Validates one meter event without touching state. Kept free of schema libraries: this runs
 * thousands of times a second in the throughput benchmark.
 */
function prepare(
  store: StripeStore,
  eventName: string,
  payloadValue: FormValue | unknown,
  identifier: string | undefined,
  timestamp: number | undefined,
  prefix: string,
): PreparedEvent {
  if (typeof payloadValue !== "object" || payloadValue === null || Array.isArray(payloadValue)) {
    throw StripeApiError.missing(`${prefix}payload`);
  }
  const payload: Record<string, string> = {};
  for (const [k, v] of Object.entries(payloadValue)) {
    if (typeof v !== "string")
      throw StripeApiError.invalid(`Invalid string: ${prefix}payload[${k}]`, `${prefix}payload[${k}]`);
    payload[k] = v;
  }
  const meter = store.metersByEventName.get(eventName);
  if (meter === undefined) {
    throw StripeApiError.invalid(
      `No active meter was found for event_name '${eventName}'.`,
      `${prefix}event_name`,
      "resource_missing",
    );
  }
  const customerKey = meter.customer_mapping.event_payload_key;
  const customer = payload[customerKey];
  if (customer === undefined || customer === "")
    throw StripeApiError.missing(`${prefix}payload[${customerKey}]`);
  if (!store.customers.has(customer))
    throw StripeApiError.noSuch("customer", customer, `${prefix}payload[${customerKey}]`, 400);
  const valueKey = meter.value_settings.event_payload_key;
  const raw = payload[valueKey];
  let value = 1;
  if (raw === undefined) {
    if (meter.default_aggregation.formula !== "count")
      throw StripeApiError.missing(`${prefix}payload[${valueKey}]`);
  } else if (!WHOLE.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw StripeApiError.invalid(
      `Invalid value '${raw}' for ${prefix}payload[${valueKey}]: meter event values must be whole numbers.`,
      `${prefix}payload[${valueKey}]`,
      "parameter_invalid_integer",
    );
  } else {
    value = Number(raw);
  }
  if (identifier !== undefined && identifier.length > 100) {
    throw StripeApiError.invalid(
      "identifier must be at most 100 characters.",
      `${prefix}identifier`,
      "parameter_invalid_string",
    );
  }
  const nowSec = store.nowSec();
  const ts = timestamp ?? nowSec;
  if (ts < nowSec - MAX_AGE_SEC) {
    throw StripeApiError.invalid(
      "Timestamp must be within the past 35 calendar days.",
      `${prefix}timestamp`,
      "timestamp_too_far_in_past",
    );
  }
  if (ts > nowSec + MAX_AHEAD_SEC) {
    throw StripeApiError.invalid(
      "Timestamp must not be more than 5 minutes in the future.",
      `${prefix}timestamp`,
      "timestamp_in_future",
    );
  }
  return {
    meter,
    customer,
    value,
    identifier: identifier ?? newId("mev"),
    timestamp: ts,
    payload,
    eventName,
  };
}

function commit(store: StripeStore, e: PreparedEvent, source: StoredMeterEvent["source"]): StoredMeterEvent {
  const stored: StoredMeterEvent = {
    identifier: e.identifier,
    eventName: e.eventName,
    meterId: e.meter.id,
    customer: e.customer,
    value: e.value,
    timestamp: e.timestamp,
    receivedAt: store.now(),
    payload: e.payload,
    source,
    cancelled: false,
  };
  store.meterEvents.add(stored);
  return stored;
}

function duplicate(identifier: string): StripeApiError {
  return new StripeApiError(
    400,
    {
      type: "invalid_request_error",
      message: `An event already exists with identifier ${identifier}`,
      param: "identifier",
    },
    { "Stripe-Should-Retry": "false" },
  );
}

async function createV1({ params, store, env }: RequestContext): Promise<unknown> {
  for (const key in params) if (!V1_KEYS.has(key)) throw StripeApiError.unknownParam(key);
  const eventName = reqStr(params, "event_name");
  const identifier = params.identifier;
  if (identifier !== undefined && typeof identifier !== "string")
    throw StripeApiError.invalid("Invalid string: identifier", "identifier");
  const tsRaw = params.timestamp;
  let timestamp: number | undefined;
  if (tsRaw !== undefined) {
    if (typeof tsRaw !== "string" || !WHOLE.test(tsRaw)) {
      throw StripeApiError.invalid(
        `Invalid integer: ${String(tsRaw)}`,
        "timestamp",
        "parameter_invalid_integer",
      );
    }
    timestamp = Number(tsRaw);
  }
  if (params.payload === undefined) throw StripeApiError.missing("payload");
  const e = prepare(
    store,
    eventName,
    params.payload,
    identifier === "" ? undefined : identifier,
    timestamp,
    "",
  );

  // Stripe allows one in-flight call per customer and meter; the first call holds the slot
  // for the emulated latency, so a concurrent second call sees the 429.
  const lockKey = `${e.customer}\u0000${e.meter.id}`;
  if (env.meterLocks.has(lockKey)) {
    throw StripeApiError.rateLimited(
      `Too many concurrent requests for customer ${e.customer} on meter ${e.meter.id}. Send meter events for one customer and meter one at a time.`,
    );
  }
  env.meterLocks.add(lockKey);
  try {
    if (env.latencyMs > 0) await env.sleep(env.latencyMs);
    if (store.meterEvents.recent(e.identifier, store.now()) !== undefined) throw duplicate(e.identifier);
    commit(store, e, "v1");
  } finally {
    env.meterLocks.delete(lockKey);
  }
  return {
    object: "billing.meter_event",
    created: store.nowSec(),
    event_name: e.eventName,
    identifier: e.identifier,
    livemode: false,
    payload: e.payload,
    timestamp: e.timestamp,
  };
}

export function registerMeterEventRoutes(router: StripeRouter): void {
  router.add("POST", "/v1/billing/meter_events", createV1);

  router.add("POST", "/v1/billing/meter_event_adjustments", ({ params, store }) => {
    checkParams(params, { expand: ["s"], event_name: "s", type: "s", cancel: { identifier: "s" } });
    const eventName = reqStr(params, "event_name");
    const type = reqStr(params, "type");
    if (type !== "cancel") throw StripeApiError.invalid("Invalid type: must be cancel", "type");
    const cancel = optObj(params, "cancel");
    if (cancel === undefined) throw StripeApiError.missing("cancel");
    const identifier = reqStr(cancel, "identifier", "cancel[identifier]");
    store.meterEvents.cancel(identifier, eventName, store.now());
    return {
      object: "billing.meter_event_adjustment",
      cancel: { identifier },
      event_name: eventName,
      livemode: false,
      // Stripe processes cancellations asynchronously; the emulator applies them at once.
      status: "pending",
      type: "cancel",
    };
  });

  router.add("POST", "/v2/billing/meter_event_session", ({ store, env }) => {
    const token = newId("meses", 40);
    const nowMs = store.now();
    env.sessions.set(token, nowMs + SESSION_TTL_MS);
    return {
      id: newId("mes"),
      object: "v2.billing.meter_event_session",
      authentication_token: token,
      created: new Date(nowMs).toISOString(),
      expires_at: new Date(nowMs + SESSION_TTL_MS).toISOString(),
      livemode: false,
    };
  });

  // Up to 100 events per call. Validation is all-or-nothing so a refused batch records nothing;
  // a repeated identifier is dropped silently, as Stripe's asynchronous stream does.
  router.add("POST", "/v2/billing/meter_event_stream", ({ params, store }) => {
    for (const key in params) if (key !== "events") throw StripeApiError.unknownParam(key);
    const events = params.events;
    if (!Array.isArray(events) || events.length === 0) throw StripeApiError.missing("events");
    if (events.length > 100)
      throw StripeApiError.invalid("A stream request takes at most 100 events.", "events");
    const prepared = events.map((raw, i) => {
      const ev = raw as FormObject;
      const prefix = `events[${i}].`;
      if (typeof ev !== "object" || ev === null)
        throw StripeApiError.invalid(`Invalid object: events[${i}]`, `events[${i}]`);
      const eventName = ev.event_name;
      if (typeof eventName !== "string" || eventName === "")
        throw StripeApiError.missing(`${prefix}event_name`);
      const identifier = ev.identifier;
      if (identifier !== undefined && typeof identifier !== "string") {
        throw StripeApiError.invalid(`Invalid string: ${prefix}identifier`, `${prefix}identifier`);
      }
      let timestamp: number | undefined;
      if (ev.timestamp !== undefined) {
        const ms = typeof ev.timestamp === "string" ? Date.parse(ev.timestamp) : Number.NaN;
        if (Number.isNaN(ms))
          throw StripeApiError.invalid(`Invalid timestamp: ${prefix}timestamp`, `${prefix}timestamp`);
        timestamp = Math.floor(ms / 1000);
      }
      return prepare(store, eventName, ev.payload, identifier, timestamp, prefix);
    });
    const nowMs = store.now();
    for (const e of prepared)
      if (store.meterEvents.recent(e.identifier, nowMs) === undefined) commit(store, e, "v2_stream");
    return {};
  });
}

export function isSessionPath(path: string): boolean {
  return path === "/v2/billing/meter_event_stream";
}
