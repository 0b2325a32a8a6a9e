import { newId } from "../stripe.ids";
import type { RequestContext, StripeRouter } from "../stripe.router";
import type { StripeStore } from "../stripe.store";
import { StripeApiError } from "../stripe-api.error";
import { newestFirst, paginate } from "../stripe-list";
import {
  applyMetadata,
  COMMON,
  checkParams,
  LIST,
  optArr,
  optStr,
  type ParamShape,
  reqStr,
} from "../stripe-params";

export interface WebhookEndpointObject {
  id: string;
  object: "webhook_endpoint";
  url: string;
  enabled_events: string[];
  status: "enabled" | "disabled";
  description: string | null;
  metadata: Record<string, string>;
  livemode: boolean;
  created: number;
  api_version: string | null;
}

// Kept beside the store rather than in it: endpoints are only read back (the emulator delivers
// webhooks to its `webhookUrl` option), so they need no part in the store's state machine.
const endpointsOf = new WeakMap<StripeStore, Map<string, WebhookEndpointObject>>();

function endpoints(store: StripeStore): Map<string, WebhookEndpointObject> {
  let map = endpointsOf.get(store);
  if (!map) {
    map = new Map();
    endpointsOf.set(store, map);
  }
  return map;
}

function found(ctx: RequestContext): WebhookEndpointObject {
  const id = ctx.pathParams[0] ?? "";
  const endpoint = endpoints(ctx.store).get(id);
  if (!endpoint) throw StripeApiError.invalid(`No such webhook endpoint: '${id}'`, "id", "resource_missing");
  return endpoint;
}

function events(ctx: RequestContext): string[] | undefined {
  return optArr(ctx.params, "enabled_events")?.map((v) => {
    if (typeof v !== "string" || v === "") {
      throw StripeApiError.invalid("Invalid enabled_events", "enabled_events", "parameter_invalid_array");
    }
    return v;
  });
}

/** `/v1/webhook_endpoints`: create, retrieve, list, update, delete (what `sparks doctor` reads). */
export function registerWebhookEndpointRoutes(router: StripeRouter): void {
  const WRITE: { [key: string]: ParamShape } = {
    ...COMMON,
    url: "s",
    enabled_events: ["s"],
    description: "s",
    metadata: "map",
    api_version: "s",
    disabled: "s",
  };

  router.add("POST", "/v1/webhook_endpoints", (ctx) => {
    checkParams(ctx.params, WRITE);
    const url = reqStr(ctx.params, "url");
    const enabled = events(ctx);
    if (!enabled || enabled.length === 0) {
      throw StripeApiError.invalid(
        "Missing required param: enabled_events.",
        "enabled_events",
        "parameter_missing",
      );
    }
    const endpoint: WebhookEndpointObject = {
      id: newId("we", 24),
      object: "webhook_endpoint",
      url,
      enabled_events: enabled,
      status: "enabled",
      description: optStr(ctx.params, "description") ?? null,
      metadata: applyMetadata({}, ctx.params),
      livemode: false,
      created: ctx.store.nowSec(),
      api_version: optStr(ctx.params, "api_version") ?? null,
    };
    endpoints(ctx.store).set(endpoint.id, endpoint);
    return endpoint;
  });
  router.add("GET", "/v1/webhook_endpoints", (ctx) => {
    checkParams(ctx.params, LIST);
    return paginate(newestFirst(endpoints(ctx.store)), ctx.params, "/v1/webhook_endpoints");
  });
  router.add("GET", "/v1/webhook_endpoints/:id", (ctx) => found(ctx));
  router.add("POST", "/v1/webhook_endpoints/:id", (ctx) => {
    checkParams(ctx.params, WRITE);
    const endpoint = found(ctx);
    const url = optStr(ctx.params, "url");
    if (url !== undefined) endpoint.url = url;
    const enabled = events(ctx);
    if (enabled) endpoint.enabled_events = enabled;
    const disabled = optStr(ctx.params, "disabled");
    if (disabled !== undefined) endpoint.status = disabled === "true" ? "disabled" : "enabled";
    endpoint.metadata = applyMetadata(endpoint.metadata, ctx.params);
    return endpoint;
  });
  router.add("DELETE", "/v1/webhook_endpoints/:id", (ctx) => {
    const endpoint = found(ctx);
    endpoints(ctx.store).delete(endpoint.id);
    return { id: endpoint.id, object: "webhook_endpoint", deleted: true };
  });
}
