import { randomBytes } from "node:crypto";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { IdempotencyCache } from "./idempotency.cache";
import { registerCatalogRoutes } from "./routes/catalog.routes";
import { registerCustomerRoutes } from "./routes/customers.routes";
import { registerInvoiceRoutes } from "./routes/invoices.routes";
import { registerMeterEventRoutes } from "./routes/meter-events.routes";
import { registerMeterRoutes } from "./routes/meters.routes";
import { registerSubscriptionRoutes } from "./routes/subscriptions.routes";
import { registerWebhookEndpointRoutes } from "./routes/webhook-endpoints.routes";
import { SlidingWindowLimiter } from "./sliding-window.limiter";
import { StripeFaults } from "./stripe.faults";
import { newId } from "./stripe.ids";
import { type FaultKind, type RecordedRequest, StripeRecording } from "./stripe.recording";
import { type HandlerEnv, StripeRouter } from "./stripe.router";
import { STRIPE_API_VERSION, StripeStore } from "./stripe.store";
import type { StripeEventObject } from "./stripe.types";
import { StripeApiError } from "./stripe-api.error";
import { isSecretKeyShape, presentedKey, sessionExpired, unauthorized } from "./stripe-auth";
import { type FormObject, parseForm } from "./stripe-form.parser";
import { deliverWebhook, type WebhookDelivery } from "./stripe-webhook.signer";

const METER_EVENTS_PATH = "/v1/billing/meter_events";
const STREAM_PATH = "/v2/billing/meter_event_stream";
/** Not Stripe: the emulator's clock, for tests and demos that move through months. */
const CLOCK_PATH = "/_emulator/clock";

function clockRoute(store: StripeStore, method: string, params: FormObject): unknown {
  if (method === "POST") {
    const advance = params.advance_seconds;
    const to = params.to;
    if (typeof advance === "string" && /^\d+$/.test(advance)) store.advanceClock(Number(advance) * 1000);
    else if (typeof to === "string" && /^\d+$/.test(to)) {
      if (Number(to) * 1000 < store.now())
        throw StripeApiError.invalid("The clock only moves forward.", "to");
      store.setClock(Number(to) * 1000);
    } else throw StripeApiError.invalid("Give advance_seconds or to (Unix seconds).", "advance_seconds");
  } else if (method !== "GET") throw StripeApiError.invalid("GET or POST only.", undefined, undefined, 405);
  return { object: "emulator.clock", now: store.nowSec(), iso: new Date(store.now()).toISOString() };
}

export interface StripeEmulatorOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The key clients must present; default a fresh `sk_test_…`. */
  secretKey?: string;
  /** Also accept any other well-formed `sk_test_…` / `sk_live_…` key. */
  acceptAnyKey?: boolean;
  webhookSecret?: string;
  /** Where state changes (subscription, invoice events) are delivered automatically. */
  webhookUrl?: string;
  /** Emulator clock in ms; drives timestamps, the 24 h dedupe window and the 35-day limit. */
  now?: () => number;
  /**
   * Invoice finalization grace in seconds (Stripe: 1 h by default, configurable up to 72 h):
   * a subscription's draft finalizes this long after its period ends unless it is held.
   */
  finalizationGraceSec?: number;
  /** Added to every request; meter-event calls hold their customer+meter slot meanwhile. */
  latencyMs?: number;
  /** Requests per second over a sliding 1 s window (default 25, test mode); 0 or Infinity: off. */
  rateLimitPerSecond?: number;
  /** What the budget counts: meter-event calls only (default) or every request. */
  rateLimitScope?: "meter_events" | "all";
}

export interface WebhookEventInput {
  type: string;
  data: { object: unknown; previous_attributes?: Record<string, unknown> };
  id?: string;
  created?: number;
}

export interface StripeEmulator {
  /** Base URL, e.g. `http://127.0.0.1:53127` (what `STRIPE_API_BASE` points at). */
  url: string;
  host: string;
  port: number;
  secretKey: string;
  webhookSecret: string;
  store: StripeStore;
  faults: StripeFaults;
  recording: StripeRecording;
  /** Every webhook delivery attempted, on demand or automatic. */
  webhookDeliveries: WebhookDelivery[];
  /** Signs and POSTs an event (a full Stripe event, or just `type` + `data`) to `url`. */
  sendWebhook(event: StripeEventObject | WebhookEventInput, url?: string): Promise<WebhookDelivery>;
  /** The emulator clock in ms (the `now` option plus any advance). */
  now(): number;
  /**
   * Moves the clock forward by `ms` and does what Stripe does meanwhile, in time order:
   * drafts cut at period ends (`invoice.created`), unheld drafts finalized after the grace.
   * Also over HTTP: `POST /_emulator/clock` with `advance_seconds` or `to` (Unix seconds).
   */
  advanceClock(ms: number): void;
  /** Waits until automatic deliveries queued so far are done. */
  flushWebhooks(): Promise<void>;
  close(): Promise<void>;
}

interface Sleeper {
  timer: NodeJS.Timeout;
  resolve: () => void;
}

function toEvent(store: StripeStore, input: StripeEventObject | WebhookEventInput): StripeEventObject {
  if ("object" in input && input.object === "event") return input;
  return {
    id: input.id ?? newId("evt"),
    object: "event",
    api_version: STRIPE_API_VERSION,
    created: input.created ?? store.nowSec(),
    data: input.data,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: input.type,
  };
}

/**
 * Starts a Stripe-compatible HTTP server for the official `stripe` SDK
 * (`new Stripe(secretKey, { host, port, protocol: "http" })`).
 */
export async function createStripeEmulator(opts: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const host = opts.host ?? "127.0.0.1";
  const secretKey = opts.secretKey ?? `sk_test_emu${randomBytes(12).toString("hex")}`;
  if (!isSecretKeyShape(secretKey)) throw new Error("secretKey must look like sk_test_… or sk_live_…");
  const webhookSecret = opts.webhookSecret ?? `whsec_${randomBytes(24).toString("hex")}`;
  const now = opts.now ?? Date.now;
  const store = new StripeStore(now);
  if (opts.finalizationGraceSec !== undefined) store.finalizationGraceSec = opts.finalizationGraceSec;
  const recording = new StripeRecording(store.meterEvents);
  const faults = new StripeFaults();
  const idempotency = new IdempotencyCache();
  const limiter = new SlidingWindowLimiter(opts.rateLimitPerSecond ?? 25);
  const limitAll = opts.rateLimitScope === "all";
  const latencyMs = opts.latencyMs ?? 0;
  const sleepers = new Set<Sleeper>();
  let requestCounter = 0;

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const s: Sleeper = {
        timer: setTimeout(() => {
          sleepers.delete(s);
          resolve();
        }, ms),
        resolve,
      };
      sleepers.add(s);
    });
  const env: HandlerEnv = { latencyMs, sleep, meterLocks: new Set(), sessions: new Map() };

  const router = new StripeRouter();
  registerCustomerRoutes(router);
  registerCatalogRoutes(router);
  registerMeterRoutes(router);
  registerMeterEventRoutes(router);
  registerSubscriptionRoutes(router);
  registerInvoiceRoutes(router);
  registerWebhookEndpointRoutes(router);

  const webhookDeliveries: WebhookDelivery[] = [];
  let chain: Promise<void> = Promise.resolve();
  const send = async (event: StripeEventObject, url: string): Promise<WebhookDelivery> => {
    // Signed with wall-clock time, not the emulator clock: the receiver checks the signature's
    // age against its own clock (300 s tolerance), and the delivery really happens now.
    const d = await deliverWebhook(url, event, webhookSecret, Math.floor(Date.now() / 1000));
    webhookDeliveries.push(d);
    return d;
  };
  const { webhookUrl } = opts;
  if (webhookUrl !== undefined) {
    // Sequential, so a test sees events in the order the changes happened.
    store.onEvent((event) => {
      chain = chain.then(async () => {
        await send(event, webhookUrl);
      });
    });
  }

  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 2 * 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => done(null, body));

  const handle = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const method = req.method;
    const rawUrl = req.url;
    const q = rawUrl.indexOf("?");
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const rawBody = typeof req.body === "string" ? req.body : "";
    const idemHeader = req.headers["idempotency-key"];
    const idemKey =
      typeof idemHeader === "string" && idemHeader !== "" && method !== "GET" ? idemHeader : null;
    const entry: RecordedRequest = {
      method,
      path,
      params: {},
      status: 0,
      time: store.now(),
      idempotencyKey: idemKey,
      replayed: false,
      fault: null,
      error: null,
    };
    requestCounter += 1;
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "request-id": `req_${requestCounter.toString(36)}${entry.time.toString(36)}`,
      "stripe-version": STRIPE_API_VERSION,
    };
    if (idemKey !== null) headers["idempotency-key"] = idemKey;
    const respond = (status: number, body: string, extra?: Record<string, string>): void => {
      entry.status = status;
      recording.add(entry);
      void reply
        .code(status)
        .headers(extra === undefined ? headers : { ...headers, ...extra })
        .send(body);
    };
    let begun = false;
    try {
      const isV2 = path.startsWith("/v2/");
      let params: FormObject;
      if (isV2) {
        const parsed: unknown = rawBody === "" ? {} : JSON.parse(rawBody);
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
          throw StripeApiError.invalid("The request body must be a JSON object.");
        }
        params = parsed as FormObject;
      } else {
        params = parseForm(
          q === -1 ? rawBody : rawBody === "" ? rawUrl.slice(q + 1) : `${rawUrl.slice(q + 1)}&${rawBody}`,
        );
      }
      entry.params = params;

      const key = presentedKey(req.headers.authorization);
      if (path === STREAM_PATH) {
        const expires = key === null ? undefined : env.sessions.get(key);
        if (expires === undefined || expires <= store.now()) throw sessionExpired();
      } else if (
        key === null ||
        !(key === secretKey || (opts.acceptAnyKey === true && isSecretKeyShape(key)))
      ) {
        throw unauthorized(key);
      }

      // Whatever Stripe would have done by now (period ends, finalizations) happens first.
      store.tick();
      if (path === CLOCK_PATH) {
        respond(200, JSON.stringify(clockRoute(store, method, params)));
        return;
      }

      const fault = faults.take(method, path);
      if (fault !== null) {
        entry.fault = fault.kind;
        await answerFault(fault.kind, fault.hangMs);
        return;
      }

      if ((limitAll || path === METER_EVENTS_PATH) && !limiter.tryAcquire(performance.now())) {
        throw StripeApiError.rateLimited(
          "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
        );
      }

      if (idemKey !== null) {
        const stored = idempotency.get(idemKey);
        if (stored !== undefined) {
          if (stored.method !== method || stored.path !== path || stored.body !== rawBody) {
            throw new StripeApiError(400, {
              type: "idempotency_error",
              message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idemKey}' if you meant to execute a different request.`,
            });
          }
          entry.replayed = true;
          respond(stored.status, stored.response, {
            "idempotent-replayed": "true",
            "original-request": stored.requestId,
          });
          return;
        }
        if (idempotency.isInFlight(idemKey)) {
          throw new StripeApiError(409, {
            type: "idempotency_error",
            message:
              "There is currently another in-progress request using this Stripe-Idempotency-Key. Please try again later.",
          });
        }
        idempotency.begin(idemKey);
        begun = true;
      }

      const route = router.match(method, path);
      if (route === null) {
        throw StripeApiError.invalid(
          `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
          undefined,
          undefined,
          404,
        );
      }
      if (latencyMs > 0 && path !== METER_EVENTS_PATH) await sleep(latencyMs);
      const result = await route.handler({ method, path, params, pathParams: route.pathParams, store, env });
      const body = JSON.stringify(result);
      if (idemKey !== null) {
        idempotency.store(idemKey, {
          method,
          path,
          body: rawBody,
          status: 200,
          response: body,
          storedAt: store.now(),
          requestId: headers["request-id"] as string,
        });
      }
      respond(200, body);
    } catch (err) {
      if (err instanceof StripeApiError) {
        entry.error = err.body;
        respond(err.status, JSON.stringify({ error: err.body }), err.headers);
      } else if (err instanceof SyntaxError) {
        entry.error = { type: "invalid_request_error", message: "Invalid JSON body." };
        respond(400, JSON.stringify({ error: entry.error }));
      } else {
        entry.error = { type: "api_error", message: err instanceof Error ? err.message : String(err) };
        respond(500, JSON.stringify({ error: entry.error }));
      }
    } finally {
      if (begun && idemKey !== null) idempotency.end(idemKey);
    }

    async function answerFault(kind: FaultKind, hangMs: number): Promise<void> {
      if (kind === "hang") await sleep(hangMs);
      if (kind === "server_error" || kind === "hang") {
        entry.error = { type: "api_error", message: "An unknown error occurred (emulated fault)." };
        respond(500, JSON.stringify({ error: entry.error }));
      } else {
        entry.error = {
          type: "invalid_request_error",
          code: "rate_limit",
          message: "Request rate limit exceeded (emulated fault).",
        };
        const extra: Record<string, string> =
          kind === "rate_limit_should_retry" ? { "stripe-should-retry": "true" } : {};
        respond(429, JSON.stringify({ error: entry.error }), extra);
      }
    }
  };

  app.all("/*", handle);
  app.all("/", handle);
  await app.listen({ host, port: opts.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : (opts.port ?? 0);

  return {
    url: `http://${host}:${port}`,
    host,
    port,
    secretKey,
    webhookSecret,
    store,
    faults,
    recording,
    webhookDeliveries,
    now: () => store.now(),
    advanceClock: (ms) => store.advanceClock(ms),
    sendWebhook: (event, url) => {
      const target = url ?? webhookUrl;
      if (target === undefined)
        return Promise.reject(new Error("sendWebhook needs a url (or the webhookUrl option)"));
      return send(toEvent(store, event), target);
    },
    flushWebhooks: async () => {
      let seen: Promise<void> | null = null;
      while (seen !== chain) {
        seen = chain;
        await chain;
      }
    },
    close: async () => {
      for (const s of sleepers) {
        clearTimeout(s.timer);
        s.resolve();
      }
      sleepers.clear();
      await app.close();
    },
  };
}
