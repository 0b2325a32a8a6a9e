import { timingSafeEqual } from "node:crypto";
import { gunzipSync, inflateSync } from "node:zlib";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { IngestionWriter } from "./ingestion/ingestion.writer";
import { handleLegacyIngestion, type LegacyIngestionMode } from "./ingestion/legacy-ingestion.handler";
import { writeOtlpSpans } from "./ingestion/otel-span.mapper";
import { decodeOtlpTraces, OtlpDecodeError } from "./ingestion/otlp.decoder";
import { LangfuseFaults, type RandomFailureOptions } from "./langfuse.faults";
import { LANGFUSE_ROUTES, type LangfuseRouteKey, type LangfuseRouteName } from "./langfuse.routes";
import { LangfuseStore } from "./langfuse.store";
import {
  type HandlerContext,
  type HandlerResult,
  legacyObservation,
  legacyObservations,
  legacyTrace,
  legacyTraces,
  observationsV2,
} from "./langfuse-handlers";
import { LangfuseRequestStats } from "./langfuse-request.stats";

export interface LangfuseEmulatorOptions {
  /** Default 0 (a free port). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  publicKey?: string;
  secretKey?: string;
  projectId?: string;
  /** The emulator's clock (visibility, rate-limit windows); default the real clock. */
  now?: () => Date;
  /** Default delay between an item's time and its visibility (ms); default 0. */
  ingestionDelayMs?: number;
  /** Switch routes off (404) to emulate Langfuse Cloud after 2026-11-16 or an old server without v2. */
  routes?: Partial<Record<LangfuseRouteName, boolean>>;
  /** Share a store (e.g. seeded once for several emulators); default a new one. */
  store?: LangfuseStore;
  /** Per-minute request budget (429 + Retry-After beyond it). */
  requestsPerMinute?: number;
  randomFailures?: RandomFailureOptions;
  /**
   * `POST /api/public/ingestion` for traces and observations: `enabled` (a server before v4, the
   * default) or `events_only` (a v4 server in its default write mode: refused per event, 400).
   */
  legacyIngestion?: LegacyIngestionMode;
}

export interface LangfuseEmulator {
  /** Base URL, e.g. `http://127.0.0.1:54321` (what `LANGFUSE_BASEURL` takes). */
  url: string;
  port: number;
  publicKey: string;
  secretKey: string;
  projectId: string;
  store: LangfuseStore;
  faults: LangfuseFaults;
  stats: LangfuseRequestStats;
  setRouteEnabled(route: LangfuseRouteName, enabled: boolean): void;
  /** Switches legacy batch ingestion between a pre-v4 server and a v4 server in events_only mode. */
  setLegacyIngestion(mode: LegacyIngestionMode): void;
  /** OTLP export requests accepted, by encoding (tests prove which exporter they exercised). */
  otlpRequests: { json: number; protobuf: number };
  /** OTLP/HTTP traces endpoint (what an OpenTelemetry exporter's `url` takes). */
  otlpTracesUrl: string;
  close(): Promise<void>;
}

const ROUTE_BY_KEY = new Map<string, LangfuseRouteName>(
  Object.entries(LANGFUSE_ROUTES).map(([name, key]) => [key, name as LangfuseRouteName]),
);

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function checkBasicAuth(header: string | undefined, publicKey: string, secretKey: string): string | null {
  if (!header) return "No authorization header";
  const [scheme, encoded] = header.split(" ");
  if (scheme?.toLowerCase() !== "basic" || !encoded) {
    return "Invalid authorization header: use Basic auth with the public key as user and the secret key as password";
  }
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? "" : decoded.slice(colon + 1);
  if (!sameSecret(user, publicKey) || !sameSecret(password, secretKey)) {
    return "Invalid credentials. Confirm that you've configured the correct host.";
  }
  return null;
}

/** Starts a Langfuse-compatible public API server on 127.0.0.1 (see README "Langfuse emulator"). */
export async function createLangfuseEmulator(
  options: LangfuseEmulatorOptions = {},
): Promise<LangfuseEmulator> {
  const now = options.now ?? (() => new Date());
  const publicKey = options.publicKey ?? "pk-lf-emulator";
  const secretKey = options.secretKey ?? "sk-lf-emulator";
  const projectId = options.projectId ?? "emulated-project";
  const store = options.store ?? new LangfuseStore({ ingestionDelayMs: options.ingestionDelayMs ?? 0 });
  if (options.store && options.ingestionDelayMs !== undefined)
    store.ingestionDelayMs = options.ingestionDelayMs;
  const faults = new LangfuseFaults(now);
  if (options.requestsPerMinute !== undefined) faults.setRequestsPerMinute(options.requestsPerMinute);
  if (options.randomFailures) faults.setRandomFailures(options.randomFailures);
  const stats = new LangfuseRequestStats();
  const enabled = new Map<LangfuseRouteName, boolean>();
  for (const name of Object.keys(LANGFUSE_ROUTES) as LangfuseRouteName[]) {
    enabled.set(name, options.routes?.[name] ?? true);
  }

  let legacyMode: LegacyIngestionMode = options.legacyIngestion ?? "enabled";
  const writer = new IngestionWriter(store, () => now().getTime());
  const otlpRequests = { json: 0, protobuf: 0 };

  // Langfuse accepts batches up to 3.5 MB; OTLP exporters may gzip their bodies.
  const app = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 });
  const inflate = (request: FastifyRequest, body: Buffer): Buffer => {
    const encoding = String(request.headers["content-encoding"] ?? "").toLowerCase();
    if (encoding === "gzip") return gunzipSync(body);
    if (encoding === "deflate") return inflateSync(body);
    return body;
  };
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    try {
      const raw = inflate(request, body as Buffer);
      // The OTLP route decodes itself (to name what is wrong); the batch route wants JSON.
      if (request.url.startsWith("/api/public/otel/")) return done(null, raw);
      done(null, raw.length === 0 ? undefined : JSON.parse(raw.toString("utf8")));
    } catch (error) {
      const e = error as Error & { statusCode?: number };
      e.statusCode = 400;
      done(e, undefined);
    }
  });
  app.addContentTypeParser(
    ["application/x-protobuf", "application/protobuf"],
    { parseAs: "buffer" },
    (request, body, done) => {
      try {
        done(null, inflate(request, body as Buffer));
      } catch (error) {
        const e = error as Error & { statusCode?: number };
        e.statusCode = 400;
        done(e, undefined);
      }
    },
  );
  app.setErrorHandler((error: Error & { statusCode?: number }, _request, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    reply.code(status).send({
      message: error.message,
      error: status === 500 ? "InternalServerError" : "InvalidRequestError",
    });
  });
  const routeKeyOf = (request: FastifyRequest): LangfuseRouteKey | undefined => {
    const url = request.routeOptions.url;
    if (url === undefined) return undefined;
    const key = `${request.method} ${url}`;
    return ROUTE_BY_KEY.has(key) ? (key as LangfuseRouteKey) : undefined;
  };

  app.addHook("onRequest", async (request, reply) => {
    const key = routeKeyOf(request);
    if (!key) return;
    const name = ROUTE_BY_KEY.get(key);
    if (name === undefined) return;
    if (!enabled.get(name)) {
      return reply.code(404).send({
        message: `${key.replace(/:(\w+)/g, "{$1}")} is not available on this server. Use GET /api/public/v2/observations.`,
        error: "LangfuseNotFoundError",
      });
    }
    if (name === "health") return;
    const authError = checkBasicAuth(request.headers.authorization, publicKey, secretKey);
    if (authError) return reply.code(401).send({ message: authError, error: "UnauthorizedError" });
    const fault = faults.decide(key);
    if (!fault) return;
    reply.headers(fault.headers);
    if (fault.retryAfterSeconds !== undefined) reply.header("retry-after", String(fault.retryAfterSeconds));
    return reply.code(fault.status).send({ message: fault.message, error: fault.message });
  });

  app.addHook("onResponse", async (request, reply) => {
    stats.record(routeKeyOf(request) ?? "unmatched", reply.statusCode);
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ message: `Route ${request.method} ${request.url} not found`, error: "NotFound" });
  });

  const context = (): HandlerContext => ({ store, stats, projectId, nowMs: now().getTime() });
  const send = (reply: FastifyReply, result: HandlerResult) => reply.code(result.status).send(result.body);

  app.get("/api/public/health", async () => ({ status: "OK", version: "emulator" }));
  app.get("/api/public/v2/observations", async (request, reply) =>
    send(reply, observationsV2(request.query, context())),
  );
  app.get("/api/public/traces", async (request, reply) =>
    send(reply, legacyTraces(request.query, context())),
  );
  app.get<{ Params: { traceId: string } }>("/api/public/traces/:traceId", async (request, reply) =>
    send(reply, legacyTrace(request.params.traceId, context())),
  );
  app.get("/api/public/observations", async (request, reply) =>
    send(reply, legacyObservations(request.query, context())),
  );
  app.get<{ Params: { observationId: string } }>(
    "/api/public/observations/:observationId",
    async (request, reply) => send(reply, legacyObservation(request.params.observationId, context())),
  );

  app.post("/api/public/otel/v1/traces", async (request, reply) => {
    const body = request.body;
    if (!Buffer.isBuffer(body)) {
      return reply.code(400).send({
        message: `unsupported content type ${JSON.stringify(request.headers["content-type"] ?? "")}: send application/json or application/x-protobuf`,
        error: "InvalidRequestError",
      });
    }
    try {
      const groups = decodeOtlpTraces(body, request.headers["content-type"]);
      writeOtlpSpans(writer, groups);
    } catch (error) {
      if (error instanceof OtlpDecodeError) {
        return reply
          .code(400)
          .send({ message: `Invalid OTLP request: ${error.message}`, error: "InvalidRequestError" });
      }
      throw error;
    }
    // ExportTraceServiceResponse without partial_success: `{}` in JSON, zero bytes in protobuf.
    const type = String(request.headers["content-type"] ?? "");
    otlpRequests[type.includes("protobuf") ? "protobuf" : "json"]++;
    if (type.includes("protobuf"))
      return reply.code(200).type("application/x-protobuf").send(Buffer.alloc(0));
    return reply.code(200).send({});
  });
  app.post("/api/public/ingestion", async (request, reply) =>
    send(reply, handleLegacyIngestion(request.body, writer, legacyMode)),
  );

  await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string")
    throw new Error("Langfuse emulator has no TCP address");
  const host = options.host ?? "127.0.0.1";

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    publicKey,
    secretKey,
    projectId,
    store,
    faults,
    stats,
    setRouteEnabled: (route, on) => {
      enabled.set(route, on);
    },
    setLegacyIngestion: (mode) => {
      legacyMode = mode;
    },
    otlpRequests,
    otlpTracesUrl: `http://${host}:${address.port}/api/public/otel/v1/traces`,
    close: async () => {
      await app.close();
    },
  };
}
