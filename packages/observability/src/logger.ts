import pino, { type DestinationStream, type Logger, type LoggerOptions as PinoOptions } from "pino";
import PinoPretty from "pino-pretty";
import { type LogFormat, resolveLogFormat } from "./log-format";
import { createSecretScrubber } from "./secret-scrubber";

/** Paths pino removes before serializing; the scrubber then catches secrets anywhere else. */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["stripe-signature"]',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  "headers.authorization",
  "headers.cookie",
  'headers["stripe-signature"]',
  "authorization",
  "password",
  "secret",
  "token",
];

export interface LoggerOptions {
  level?: PinoOptions["level"];
  /** Where lines go (default stdout); tests pass a stream to read what was logged. */
  destination?: DestinationStream;
  /**
   * `LOG_FORMAT` (default `auto`: pretty on a terminal outside production, JSON otherwise).
   * Ignored when `destination` is given: tests read JSON.
   */
  format?: LogFormat;
  /** `NODE_ENV === "production"`; with `auto`, production logs JSON even on a terminal. */
  production?: boolean;
  /** Extra pino options (merged under the redaction settings, which always apply). */
  pino?: Omit<PinoOptions, "redact" | "hooks">;
}

/**
 * stdout as JSON, or through pino-pretty. pino-pretty runs here as a stream, not as a worker
 * thread transport: a line logged right before `process.exit` (a CLI's last words) is never
 * lost, and the secret scrubber sees the JSON line before it is prettified either way.
 */
function defaultDestination(options: LoggerOptions): DestinationStream {
  const format = resolveLogFormat(options.format ?? "auto", {
    isTty: process.stdout.isTTY === true,
    production: options.production ?? false,
  });
  if (format === "json") return pino.destination(1);
  return PinoPretty({
    colorize: process.stdout.isTTY === true,
    translateTime: "SYS:HH:MM:ss",
    ignore: "pid,hostname",
    singleLine: false,
    sync: true,
  });
}

/** A pino logger that redacts credentials by path and scrubs known secret values from every line. */
export function createLogger(options: LoggerOptions, secrets: readonly string[]): Logger {
  const scrub = createSecretScrubber(secrets);
  return pino(
    {
      level: options.level ?? "info",
      ...options.pino,
      redact: { paths: REDACTED_PATHS, censor: "[REDACTED]" },
      hooks: { streamWrite: scrub },
    },
    options.destination ?? defaultDestination(options),
  );
}

/** The name the API used first; kept as an alias. */
export type ApiLoggerOptions = LoggerOptions;
