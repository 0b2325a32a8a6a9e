import { newId } from "../stripe.ids";
import type { StripeRouter } from "../stripe.router";
import type { StripeStore } from "../stripe.store";
import type { MeterObject } from "../stripe.types";
import { StripeApiError } from "../stripe-api.error";
import { newestFirst, paginate } from "../stripe-list";
import { COMMON, checkParams, LIST, optEnum, optInt, optObj, optStr, reqStr } from "../stripe-params";

function meter(store: StripeStore, id: string): MeterObject {
  const m = store.meters.get(id);
  if (m === undefined) throw StripeApiError.noSuch("billing.meter", id);
  return m;
}

export function registerMeterRoutes(router: StripeRouter): void {
  router.add("POST", "/v1/billing/meters", ({ params, store }) => {
    checkParams(params, {
      ...COMMON,
      customer_mapping: { event_payload_key: "s", type: "s" },
      default_aggregation: { formula: "s" },
      display_name: "s",
      event_name: "s",
      event_time_window: "s",
      value_settings: { event_payload_key: "s" },
    });
    const displayName = reqStr(params, "display_name");
    const eventName = reqStr(params, "event_name");
    if (eventName.length > 100)
      throw StripeApiError.invalid("event_name must be at most 100 characters.", "event_name");
    const agg = optObj(params, "default_aggregation");
    if (agg === undefined) throw StripeApiError.missing("default_aggregation");
    const formula = optEnum(
      agg,
      "formula",
      ["sum", "count", "last"] as const,
      "default_aggregation[formula]",
    );
    if (formula === undefined) throw StripeApiError.missing("default_aggregation[formula]");
    if (store.metersByEventName.has(eventName)) {
      throw StripeApiError.invalid(
        `An active meter with event_name \`${eventName}\` already exists.`,
        "event_name",
      );
    }
    const mapping = optObj(params, "customer_mapping") ?? {};
    const values = optObj(params, "value_settings") ?? {};
    const now = store.nowSec();
    const m: MeterObject = {
      id: newId("mtr"),
      object: "billing.meter",
      created: now,
      customer_mapping: {
        event_payload_key:
          optStr(mapping, "event_payload_key", "customer_mapping[event_payload_key]") ?? "stripe_customer_id",
        type: optEnum(mapping, "type", ["by_id"] as const, "customer_mapping[type]") ?? "by_id",
      },
      default_aggregation: { formula },
      display_name: displayName,
      event_name: eventName,
      event_time_window: optEnum(params, "event_time_window", ["day", "hour"] as const) ?? null,
      livemode: false,
      status: "active",
      status_transitions: { deactivated_at: null },
      updated: now,
      value_settings: {
        event_payload_key:
          optStr(values, "event_payload_key", "value_settings[event_payload_key]") ?? "value",
      },
    };
    store.meters.set(m.id, m);
    store.metersByEventName.set(eventName, m);
    return m;
  });

  router.add("GET", "/v1/billing/meters", ({ params, store }) => {
    checkParams(params, { ...LIST, status: "s" });
    const status = optEnum(params, "status", ["active", "inactive"] as const);
    const items = newestFirst(store.meters).filter((m) => status === undefined || m.status === status);
    return paginate(items, params, "/v1/billing/meters");
  });

  router.add("GET", "/v1/billing/meters/:id", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    return meter(store, pathParams[0] as string);
  });

  // Only the display name can change once a meter exists; anything else is an unknown param.
  router.add("POST", "/v1/billing/meters/:id", ({ params, pathParams, store }) => {
    checkParams(params, { ...COMMON, display_name: "s" });
    const m = meter(store, pathParams[0] as string);
    const displayName = optStr(params, "display_name");
    if (displayName !== undefined && displayName !== "") m.display_name = displayName;
    m.updated = store.nowSec();
    return m;
  });

  router.add("POST", "/v1/billing/meters/:id/deactivate", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    const m = meter(store, pathParams[0] as string);
    m.status = "inactive";
    m.status_transitions.deactivated_at = store.nowSec();
    m.updated = store.nowSec();
    if (store.metersByEventName.get(m.event_name) === m) store.metersByEventName.delete(m.event_name);
    return m;
  });

  router.add("POST", "/v1/billing/meters/:id/reactivate", ({ params, pathParams, store }) => {
    checkParams(params, COMMON);
    const m = meter(store, pathParams[0] as string);
    const other = store.metersByEventName.get(m.event_name);
    if (other !== undefined && other !== m) {
      throw StripeApiError.invalid(
        `An active meter with event_name \`${m.event_name}\` already exists.`,
        "id",
      );
    }
    m.status = "active";
    m.status_transitions.deactivated_at = null;
    m.updated = store.nowSec();
    store.metersByEventName.set(m.event_name, m);
    return m;
  });

  router.add("GET", "/v1/billing/meters/:id/event_summaries", ({ params, pathParams, store }) => {
    checkParams(params, {
      ...LIST,
      customer: "s",
      start_time: "s",
      end_time: "s",
      value_grouping_window: "s",
    });
    const m = meter(store, pathParams[0] as string);
    const customer = reqStr(params, "customer");
    store.customer(customer, "customer");
    const start = optInt(params, "start_time");
    const end = optInt(params, "end_time");
    if (start === undefined) throw StripeApiError.missing("start_time");
    if (end === undefined) throw StripeApiError.missing("end_time");
    if (start % 60 !== 0)
      throw StripeApiError.invalid("start_time must be aligned with minute boundaries.", "start_time");
    if (end % 60 !== 0)
      throw StripeApiError.invalid("end_time must be aligned with minute boundaries.", "end_time");
    if (end <= start) throw StripeApiError.invalid("end_time must be after start_time.", "end_time");
    const grouping = optEnum(params, "value_grouping_window", ["day", "hour"] as const);
    const step = grouping === "day" ? 86_400 : grouping === "hour" ? 3_600 : null;
    if (step !== null && (start % step !== 0 || end % step !== 0)) {
      throw StripeApiError.invalid(
        `start_time and end_time must be aligned with ${grouping} boundaries when value_grouping_window=${grouping}.`,
        "value_grouping_window",
      );
    }
    const summaries = store.meterEvents.summarize(m, customer, start, end, step).map((w) => ({
      id: `mtrusg_${m.id.slice(4, 14)}${w.start.toString(36)}${w.end.toString(36)}`,
      object: "billing.meter_event_summary" as const,
      aggregated_value: w.value,
      end_time: w.end,
      livemode: false,
      meter: m.id,
      start_time: w.start,
    }));
    return paginate(summaries, params, `/v1/billing/meters/${m.id}/event_summaries`);
  });
}
