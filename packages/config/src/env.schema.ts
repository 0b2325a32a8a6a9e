import { z } from "zod";

const optionalString = z
  .string()
  .transform((v) => v.trim())
  .optional()
  .transform((v) => (v === undefined || v === "" ? undefined : v));

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.map((p) => `${p}//`).join(" or ")} URL`,
  );

const optionalUrl = (protocols: string[]) => optionalString.pipe(url(protocols).optional());

const positiveNumber = (what: string) =>
  optionalString.pipe(
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, `must be ${what}`)
      .transform(Number)
      .refine((n) => n > 0, "must be greater than zero")
      .optional(),
  );

const wholeNumber = (what: string, min = 0) =>
  optionalString.pipe(
    z
      .string()
      .regex(/^\d+$/, `must be ${what}`)
      .transform(Number)
      .refine((n) => n >= min, `must be at least ${min}`)
      .optional(),
  );

// A five- or six-field cron expression; BullMQ's cron-parser does the real check at start-up.
const cron = optionalString.pipe(
  z
    .string()
    .refine((v) => {
      const n = v.split(/\s+/).length;
      return n === 5 || n === 6;
    }, "must be a cron expression with 5 or 6 fields, e.g. */5 * * * *")
    .optional(),
);

/**
 * One schema per variable, so that an error can name exactly the variable that is wrong.
 * SPEC §6 fixes the names; the few extra ones (SPARKS_*) are documented in docs/configuration.md.
 */
export const envSchema = {
  DATABASE_URL: optionalUrl(["postgres:", "postgresql:"]),
  REDIS_URL: optionalUrl(["redis:", "rediss:"]),
  STRIPE_SECRET_KEY: optionalString.pipe(
    z
      .string()
      .regex(/^(sk|rk)_(test|live)_\S+$/, "must start with sk_test_, sk_live_, rk_test_ or rk_live_")
      .optional(),
  ),
  STRIPE_WEBHOOK_SECRET: optionalString.pipe(
    z
      .string()
      .regex(/^whsec_\S+$/, "must start with whsec_")
      .optional(),
  ),
  STRIPE_METER_PREFIX: optionalString.pipe(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]{0,40}$/i, "must be letters, digits, '_', '.' or '-' (at most 41)")
      .optional(),
  ),
  STRIPE_API_BASE: optionalUrl(["http:", "https:"]),
  STRIPE_MAX_RPS: positiveNumber("a number of requests per second"),
  STRIPE_AGGREGATION: optionalString.pipe(z.enum(["auto", "off", "always"]).optional()),
  STRIPE_METER_API: optionalString.pipe(z.enum(["v1", "v2"]).optional()),
  LANGFUSE_PUBLIC_KEY: optionalString,
  LANGFUSE_SECRET_KEY: optionalString,
  LANGFUSE_BASEURL: optionalUrl(["http:", "https:"]),
  LANGFUSE_API: optionalString.pipe(z.enum(["v2", "v1", "auto"]).optional()),
  LANGFUSE_LAG: wholeNumber("a whole number of seconds"),
  RELAY_TARGET_URL: optionalUrl(["http:", "https:"]),
  RELAY_MAX_BUFFER: wholeNumber("a whole number of batches", 1),
  AUTH0_DOMAIN: optionalString.pipe(
    z
      .string()
      .regex(/^[a-z0-9.-]+(:\d+)?$/i, "must be a host name such as example.eu.auth0.com (no scheme)")
      .optional(),
  ),
  AUTH0_CLIENT_ID: optionalString,
  AUTH0_CLIENT_SECRET: optionalString,
  AUTH0_AUDIENCE: optionalString,
  AUTH0_ISSUER: optionalUrl(["http:", "https:"]),
  AUTH0_JWKS_URI: optionalUrl(["http:", "https:"]),
  AUTH0_ACTION_SECRET: optionalString.pipe(
    z.string().min(16, "must be at least 16 characters (it is a shared secret)").optional(),
  ),
  SPARK_RATE: optionalString.pipe(
    z
      .string()
      .regex(/^\d+(\.\d+)?$/, "must be a decimal number of USD, e.g. 0.001")
      .refine((v) => /[1-9]/.test(v), "must be greater than zero")
      .optional(),
  ),
  USAGE_RETENTION_DAYS: wholeNumber("a whole number of days", 40),
  SYNC_SCHEDULE: cron,
  QUOTA_REFRESH_SECONDS: wholeNumber("a whole number of seconds", 1).refine(
    (n) => n === undefined || n <= 3600,
    "must be at most 3600",
  ),
  SLACK_WEBHOOK_URL: optionalUrl(["http:", "https:"]),
  SMTP_URL: optionalUrl(["smtp:", "smtps:"]),
  ALERT_EMAIL_TO: optionalString.pipe(
    z
      .string()
      .regex(/^[^@\s]+@[^@\s]+$/, "must be an e-mail address")
      .optional(),
  ),
  PORT: wholeNumber("a TCP port number").refine(
    (n) => n === undefined || n <= 65535,
    "must be at most 65535",
  ),
  LOG_LEVEL: optionalString.pipe(
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
  ),
  HOST: optionalString.pipe(
    z
      .string()
      .regex(
        /^[a-z0-9.:[\]-]+$/i,
        "must be an IP address or host name to listen on, e.g. 0.0.0.0 or 127.0.0.1",
      )
      .optional(),
  ),
  SPARKS_TRUST_PROXY: optionalString.pipe(
    z
      .string()
      .regex(
        /^(true|false|\d+)$/,
        "must be true, false or the number of proxy hops in front of the API (e.g. 1)",
      )
      .optional(),
  ),
  SPARKS_RATE_LIMIT: wholeNumber("a whole number of requests per minute per client (0 turns it off)"),
  SPARKS_AUTH_FAILURE_LIMIT: wholeNumber(
    "a whole number of failed authentications per 15 minutes per client (0 turns it off)",
  ),
  SPARKS_MAX_EVENT_LOOP_DELAY_MS: wholeNumber("a whole number of milliseconds (0 turns load shedding off)"),
  SPARKS_REQUEST_TIMEOUT_MS: wholeNumber("a whole number of milliseconds", 1000),
  SPARKS_BODY_TIMEOUT_MS: wholeNumber("a whole number of milliseconds", 100),
  SPARKS_MAX_CONNECTIONS: wholeNumber("a whole number of connections (0: no cap)"),
  LOG_FORMAT: optionalString.pipe(z.enum(["pretty", "json", "auto"]).optional()),
  NODE_ENV: optionalString,
  SPARKS_PUBLIC_URL: optionalUrl(["http:", "https:"]),
  SPARKS_CONFIG: optionalString,
  SPARKS_DATA_DIR: optionalString,
  SPARKS_ADMIN_USER: optionalString,
  SPARKS_ADMIN_PASSWORD: optionalString.pipe(z.string().min(12, "must be at least 12 characters").optional()),
  // CLI: exactly "1" shows a failed command's stack trace; anything else (or unset) does not. Never invalid.
  SPARKS_DEBUG: z
    .string()
    .optional()
    .transform((v) => v === "1"),
} as const;

export type EnvVariable = keyof typeof envSchema;
export type ParsedEnv = { [K in EnvVariable]: z.output<(typeof envSchema)[K]> };

/** Variables whose values are secrets: never logged, never echoed in an error. */
export const SECRET_VARIABLES: readonly EnvVariable[] = [
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "LANGFUSE_SECRET_KEY",
  "AUTH0_CLIENT_SECRET",
  "AUTH0_ACTION_SECRET",
  "SPARKS_ADMIN_PASSWORD",
  "DATABASE_URL",
  "REDIS_URL",
  "SMTP_URL",
  "SLACK_WEBHOOK_URL",
];
