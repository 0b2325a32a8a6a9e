import { readFileSync } from "node:fs";
import { DEFAULT_BILLING_CONFIG } from "@sparks/core";
import type { z } from "zod";
import type { AppConfig } from "./app-config";
import { billingConfigFileSchema, mergeBillingConfig } from "./billing-config.schema";
import { ConfigError } from "./config-error";
import { type EnvVariable, envSchema, type ParsedEnv, SECRET_VARIABLES } from "./env.schema";

export type Env = Record<string, string | undefined>;

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  return issue?.message ?? "is invalid";
}

/** Parses every variable of SPEC §6; the first bad one throws a ConfigError naming it. */
export function parseEnv(env: Env): ParsedEnv {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(envSchema) as [EnvVariable, z.ZodType][]) {
    const raw = env[name];
    const result = schema.safeParse(raw);
    if (!result.success) {
      const secret = SECRET_VARIABLES.includes(name);
      // Secrets are never echoed, not even when malformed.
      const shown =
        secret || raw === undefined
          ? ""
          : ` (got ${JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw)})`;
      throw new ConfigError(name, `${describeIssue(result.error.issues[0])}${shown}`);
    }
    out[name] = result.data;
  }
  return out as ParsedEnv;
}

function splitApiBase(raw: string): AppConfig["stripe"]["apiBase"] {
  const u = new URL(raw);
  const protocol = u.protocol === "http:" ? "http" : "https";
  return { host: u.hostname, port: u.port ? Number(u.port) : protocol === "http" ? 80 : 443, protocol };
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError("SPARKS_CONFIG", `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError("SPARKS_CONFIG", `${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** `1` means one proxy hop (Render's), so the client is the last address that proxy appended. */
function parseTrustProxy(value: string | undefined): boolean | number {
  if (value === undefined || value === "false" || value === "0") return false;
  if (value === "true") return true;
  return Number(value);
}

export interface LoadConfigOptions {
  /** Reads the JSON config file; injectable for tests. */
  readFile?: (path: string) => unknown;
}

/**
 * Builds the AppConfig from an environment. Called once, in each app's composition root;
 * nothing else in Sparks reads `process.env`.
 */
export function loadConfig(env: Env, options: LoadConfigOptions = {}): AppConfig {
  const e = parseEnv(env);

  let billing = DEFAULT_BILLING_CONFIG;
  if (e.SPARKS_CONFIG) {
    const parsed = billingConfigFileSchema.safeParse((options.readFile ?? readConfigFile)(e.SPARKS_CONFIG));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const at = issue && issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
      throw new ConfigError("SPARKS_CONFIG", `${at}${describeIssue(issue)}`);
    }
    billing = mergeBillingConfig(parsed.data);
  }
  // SPARK_RATE in the environment overrides the file (SPEC §1: "overridable by env").
  if (e.SPARK_RATE) billing = { ...billing, sparkRateUsd: e.SPARK_RATE };

  if ((e.LANGFUSE_PUBLIC_KEY === undefined) !== (e.LANGFUSE_SECRET_KEY === undefined)) {
    const missing = e.LANGFUSE_PUBLIC_KEY === undefined ? "LANGFUSE_PUBLIC_KEY" : "LANGFUSE_SECRET_KEY";
    throw new ConfigError(missing, "must be set together with its pair (public key and secret key)");
  }
  if ((e.SPARKS_ADMIN_USER === undefined) !== (e.SPARKS_ADMIN_PASSWORD === undefined)) {
    const missing = e.SPARKS_ADMIN_USER === undefined ? "SPARKS_ADMIN_USER" : "SPARKS_ADMIN_PASSWORD";
    throw new ConfigError(missing, "must be set together with its pair (user and password)");
  }

  const secretKey = e.STRIPE_SECRET_KEY ?? null;
  const livemode = secretKey !== null && /_live_/.test(secretKey);
  const domain = e.AUTH0_DOMAIN ?? null;

  return {
    databaseUrl: e.DATABASE_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    dataDir: e.SPARKS_DATA_DIR ?? "./.data",
    host: e.HOST ?? "0.0.0.0",
    port: e.PORT ?? 3000,
    logLevel: e.LOG_LEVEL ?? "info",
    logFormat: e.LOG_FORMAT ?? "auto",
    production: e.NODE_ENV === "production",
    publicUrl: e.SPARKS_PUBLIC_URL ? e.SPARKS_PUBLIC_URL.replace(/\/+$/, "") : null,
    stripe: {
      secretKey,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET ?? null,
      meterPrefix: e.STRIPE_METER_PREFIX ?? "sparks",
      apiBase: e.STRIPE_API_BASE ? splitApiBase(e.STRIPE_API_BASE) : null,
      // Test mode allows 25 req/s shared with every other call; live meter events 1,000/s.
      maxRps: e.STRIPE_MAX_RPS ?? (livemode ? 900 : 20),
      aggregation: e.STRIPE_AGGREGATION ?? "auto",
      meterApi: e.STRIPE_METER_API ?? "v1",
      livemode,
    },
    langfuse: {
      publicKey: e.LANGFUSE_PUBLIC_KEY ?? null,
      secretKey: e.LANGFUSE_SECRET_KEY ?? null,
      baseUrl: e.LANGFUSE_BASEURL ?? "https://cloud.langfuse.com",
      api: e.LANGFUSE_API ?? "auto",
      lagSeconds: e.LANGFUSE_LAG ?? 900,
    },
    relay: {
      // `sparks relay` forwards to the Langfuse Sparks reads, unless told otherwise.
      targetUrl: e.RELAY_TARGET_URL ?? e.LANGFUSE_BASEURL ?? "https://cloud.langfuse.com",
      maxBufferedBatches: e.RELAY_MAX_BUFFER ?? 1000,
    },
    auth0: {
      domain,
      clientId: e.AUTH0_CLIENT_ID ?? null,
      clientSecret: e.AUTH0_CLIENT_SECRET ?? null,
      audience: e.AUTH0_AUDIENCE ?? null,
      issuer: e.AUTH0_ISSUER ?? (domain ? `https://${domain}/` : null),
      jwksUri: e.AUTH0_JWKS_URI ?? (domain ? `https://${domain}/.well-known/jwks.json` : null),
      actionSecret: e.AUTH0_ACTION_SECRET ?? null,
    },
    billing,
    retentionDays: e.USAGE_RETENTION_DAYS ?? null,
    syncSchedule: e.SYNC_SCHEDULE ?? "*/5 * * * *",
    quota: { refreshSeconds: e.QUOTA_REFRESH_SECONDS ?? 10 },
    alerts: {
      slackWebhookUrl: e.SLACK_WEBHOOK_URL ?? null,
      smtpUrl: e.SMTP_URL ?? null,
      emailTo: e.ALERT_EMAIL_TO ?? null,
    },
    limits: {
      trustProxy: parseTrustProxy(e.SPARKS_TRUST_PROXY),
      requestsPerMinute: e.SPARKS_RATE_LIMIT ?? 600,
      authFailuresPer15Minutes: e.SPARKS_AUTH_FAILURE_LIMIT ?? 30,
      maxEventLoopDelayMs: e.SPARKS_MAX_EVENT_LOOP_DELAY_MS ?? 1000,
      requestTimeoutMs: e.SPARKS_REQUEST_TIMEOUT_MS ?? 60_000,
      bodyTimeoutMs: e.SPARKS_BODY_TIMEOUT_MS ?? 10_000,
      maxConnections: e.SPARKS_MAX_CONNECTIONS ?? 2_000,
    },
    admin:
      e.SPARKS_ADMIN_USER && e.SPARKS_ADMIN_PASSWORD
        ? { user: e.SPARKS_ADMIN_USER, password: e.SPARKS_ADMIN_PASSWORD }
        : null,
  };
}

/** Every secret value present in the environment, for log redaction. */
export function secretValues(env: Env): string[] {
  return SECRET_VARIABLES.map((name) => env[name]).filter(
    (v): v is string => typeof v === "string" && v.length >= 6,
  );
}

/** `SPARKS_DEBUG` on its own (the CLI reads it before any command parses the rest): true only for "1". */
export function debugEnabled(env: Env): boolean {
  return envSchema.SPARKS_DEBUG.parse(env.SPARKS_DEBUG);
}
