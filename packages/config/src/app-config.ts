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
  port: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
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
  alerts: {
    slackWebhookUrl: string | null;
    smtpUrl: string | null;
    emailTo: string | null;
  };
  /** Operator basic auth for Bull Board, besides an Auth0 admin token. */
  admin: { user: string; password: string } | null;
}
