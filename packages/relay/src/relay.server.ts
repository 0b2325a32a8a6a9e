import Fastify, { type FastifyInstance } from "fastify";
import { type ConverterOptions, LegacyBatchConverter } from "./legacy-batch.converter";
import { type Delivery, type ForwarderStats, OtlpForwarder } from "./otlp.forwarder";

/**
 * `sparks relay`: a Langfuse legacy-ingestion endpoint for senders that cannot move to OTLP
 * (Flowise 3.x), in front of a Langfuse v4 server (or Cloud after 2026-11-16) that refuses legacy
 * traces in its events_only mode. Point Flowise's Langfuse credential "Endpoint" at the relay: it
 * answers `POST /api/public/ingestion` like Langfuse (207 per event) and forwards each batch as
 * OTLP/JSON to `<target>/api/public/otel/v1/traces` with the sender's own Basic credentials.
 */
export interface RelayOptions {
  /** The Langfuse server to forward to, e.g. https://cloud.langfuse.com. */
  targetUrl: string;
  port?: number;
  host?: string;
  /** Batches buffered while Langfuse is unreachable; beyond it senders get 503. Default 1000. */
  maxBufferedBatches?: number;
  /** Backoff of failed deliveries (tests shorten it). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  converter?: ConverterOptions;
  log?: (level: "info" | "warn" | "error", message: string) => void;
}

export interface Relay {
  /** Base URL to give senders as their Langfuse host. */
  url: string;
  port: number;
  stats(): ForwarderStats & { batchesReceived: number; rejectedFull: number };
  /** Resolves when every accepted batch reached Langfuse (or was dropped as refused for good). */
  drained(): Promise<void>;
  /** Stops accepting, waits up to `graceMs` for the buffer to drain, and closes. */
  close(graceMs?: number): Promise<void>;
}

const OTLP_PATH = "/api/public/otel/v1/traces";
const INGESTION_PATH = "/api/public/ingestion";

export async function createRelay(options: RelayOptions): Promise<Relay> {
  const converter = new LegacyBatchConverter(options.converter);
  const forwarder = new OtlpForwarder({
    targetUrl: options.targetUrl,
    maxBuffered: options.maxBufferedBatches ?? 1000,
    ...(options.baseDelayMs === undefined ? {} : { baseDelayMs: options.baseDelayMs }),
    ...(options.maxDelayMs === undefined ? {} : { maxDelayMs: options.maxDelayMs }),
    ...(options.log ? { log: options.log } : {}),
  });
  const counters = { batchesReceived: 0, rejectedFull: 0 };
  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024 });

  app.get("/api/public/health", async () => ({
    status: "OK",
    version: "sparks-relay",
    buffered: forwarder.size,
  }));

  app.post(INGESTION_PATH, async (request, reply) => {
    const authorization = request.headers.authorization;
    if (!authorization?.toLowerCase().startsWith("basic ")) {
      // The relay holds no keys: it forwards the sender's, so it needs them on every request.
      return reply.code(401).send({
        message: "Basic auth with the Langfuse public key as user and secret key as password is required",
        error: "UnauthorizedError",
      });
    }
    const body = request.body as { batch?: unknown } | undefined;
    if (!body || !Array.isArray(body.batch)) {
      return reply.code(400).send({
        message: "Invalid request data",
        error: [{ path: ["batch"], message: "batch must be an array of ingestion events" }],
      });
    }
    if (!forwarder.hasRoom(2)) {
      counters.rejectedFull++;
      return reply.code(503).header("retry-after", "5").send({
        message: "The relay's buffer is full while Langfuse is unreachable; retry later",
        error: "ServiceUnavailable",
      });
    }
    counters.batchesReceived++;
    const envelope = (body as { metadata?: { sdk_integration?: unknown } }).metadata;
    const header = request.headers["x-langfuse-sdk-integration"];
    const sdkIntegration =
      typeof header === "string" && header !== ""
        ? header
        : typeof envelope?.sdk_integration === "string"
          ? envelope.sdk_integration
          : undefined;
    const converted = converter.convert(body.batch, sdkIntegration ? { sdkIntegration } : {});
    const deliveries: Delivery[] = [];
    if (converted.otlp) {
      deliveries.push({
        path: OTLP_PATH,
        body: converted.otlp,
        authorization,
        headers: { "x-langfuse-ingestion-version": "4", "x-langfuse-sdk-name": "sparks-relay" },
      });
    }
    if (converted.passThrough.length > 0) {
      deliveries.push({ path: INGESTION_PATH, body: { batch: converted.passThrough }, authorization });
    }
    forwarder.enqueue(deliveries);
    return reply.code(207).send({ successes: converted.successes, errors: converted.errors });
  });

  await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("relay has no TCP address");
  const host = options.host === "0.0.0.0" || options.host === undefined ? "127.0.0.1" : options.host;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    stats: () => ({ ...forwarder.stats, ...counters }),
    drained: () => forwarder.drained(),
    close: async (graceMs = 10_000) => {
      await app.close();
      await Promise.race([forwarder.drained(), new Promise((r) => setTimeout(r, graceMs))]);
      forwarder.stop();
      if (forwarder.size > 0) {
        options.log?.("error", `relay: stopped with ${forwarder.size} batch(es) not delivered to Langfuse`);
      }
    },
  };
}
