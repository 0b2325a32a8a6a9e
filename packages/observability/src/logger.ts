import pino, { type DestinationStream, type Logger, type LoggerOptions as PinoOptions } from "pino";
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
  /** Extra pino options (merged under the redaction settings, which always apply). */
  pino?: Omit<PinoOptions, "redact" | "hooks">;
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
    options.destination ?? pino.destination(1),
  );
}

/** The name the API used first; kept as an alias. */
export type ApiLoggerOptions = LoggerOptions;
