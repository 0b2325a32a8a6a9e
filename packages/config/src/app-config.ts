import type { BillingConfig } from "@sparks/core";

export type LangfuseApiMode = "v2" | "v1" | "auto";
export type AggregationMode = "auto" | "off" | "always";
/**
 * How meter events reach Stripe: `v1` one call per event, validated on the spot (the default);
 * `v2` Stripe's high-throughput stream, up to 100 events per call, validated asynchronously.
 */
export type MeterApi = "v1" | "v2";

/** Everything Sparks reads from its environment, parsed and validated once at start-up. */
export interface AppConfig {
  /** null: `sparks start` uses embedded PGlite under `dataDir`. */
  databaseUrl: string | null;
  /** null: nothing was set; the launcher looks for a local Redis. */
  redisUrl: string | null;
  dataDir: string;
  /** `HOST`: the interface the API listens on (default 0.0.0.0, as in a container). */
  host: string;
  port: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** LOG_FORMAT: `auto` is pretty on a terminal outside production, JSON otherwise. */
  logFormat: "pretty" | "json" | "auto";
  /** NODE_ENV=production: JSON logs whatever the terminal. */
  production: boolean;
  /** SPARKS_PUBLIC_URL: where this deployment is reached (Stripe's webhook target); null when unset. */
  publicUrl: string | null;
  stripe: {
    secretKey: string | null;
    webhookSecret: string | null;
    meterPrefix: string;
    /** `STRIPE_API_BASE` split for the SDK's host/port/protocol options. */
    apiBase: { host: string; port: number; protocol: "http" | "https" } | null;
    maxRps: number;
    aggregation: AggregationMode;
    meterApi: MeterApi;
    livemode: boolean;
  };
  langfuse: {
    publicKey: string | null;
    secretKey: string | null;
    baseUrl: string;
    api: LangfuseApiMode;
    lagSeconds: number;
  };
  /** `sparks relay`: Langfuse legacy batches in, OTLP to `targetUrl` out. */
  relay: {
    targetUrl: string;
    maxBufferedBatches: number;
  };
  auth0: {
    domain: string | null;
    clientId: string | null;
    clientSecret: string | null;
    audience: string | null;
    issuer: string | null;
    jwksUri: string | null;
    actionSecret: string | null;
  };
  billing: BillingConfig;
  retentionDays: number | null;
  syncSchedule: string;
  quota: {
    /** `QUOTA_REFRESH_SECONDS`: how often the open Langfuse window is read into provisional counters. */
    refreshSeconds: number;
  };
  alerts: {
    slackWebhookUrl: string | null;
    smtpUrl: string | null;
    emailTo: string | null;
  };
  /** Abuse limits of the HTTP API (docs/hardening.md). A limit of 0 turns that limit off. */
  limits: LimitsConfig;
  /** Operator basic auth for Bull Board, besides an Auth0 admin token. */
  admin: { user: string; password: string } | null;
}

export interface LimitsConfig {
  /** `SPARKS_TRUST_PROXY`: false, true, or the number of proxy hops whose X-Forwarded-For is trusted. */
  trustProxy: boolean | number;
  /** `SPARKS_RATE_LIMIT`: requests per minute per client IP, every route (shared through Redis). */
  requestsPerMinute: number;
  /** `SPARKS_AUTH_FAILURE_LIMIT`: failed authentications per 15 minutes per client IP and per credential. */
  authFailuresPer15Minutes: number;
  /** `SPARKS_MAX_EVENT_LOOP_DELAY_MS`: above it the API sheds load with 503 + Retry-After. */
  maxEventLoopDelayMs: number;
  /** `SPARKS_REQUEST_TIMEOUT_MS`: a whole request (headers and body) must arrive within it. */
  requestTimeoutMs: number;
  /** `SPARKS_BODY_TIMEOUT_MS`: a request body must arrive within it once the headers are in. */
  bodyTimeoutMs: number;
  /** `SPARKS_MAX_CONNECTIONS`: open sockets the API accepts (0: no cap). */
  maxConnections: number;
}
