import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";

export interface CreateLoggerOptions {
  level?: LoggerOptions["level"];
  /** Secret values (keys, tokens) that must never appear in a log line. */
  secrets?: readonly string[];
  name?: string;
  destination?: DestinationStream;
}

// Paths pino removes wholesale: credentials travel in these fields.
const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["stripe-signature"]',
  "headers.authorization",
  "authorization",
  "password",
  "secret",
  "secretKey",
  "apiKey",
  "*.password",
  "*.secretKey",
  "*.apiKey",
  "*.authorization",
];

const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi;

/**
 * Wraps a destination so every serialized line is scrubbed of known secret values and bearer
 * tokens, whatever field or message they hide in.
 */
function scrubbing(destination: DestinationStream, secrets: readonly string[]): DestinationStream {
  const values = [...new Set(secrets.filter((s) => s.length >= 6))].sort((a, b) => b.length - a.length);
  return {
    write(line: string) {
      let out = line.replace(BEARER, "$1[redacted]");
      for (const v of values) if (out.includes(v)) out = out.split(v).join("[redacted]");
      destination.write(out);
    },
  };
}

export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const destination = scrubbing(
    options.destination ?? pino.destination({ dest: 1, sync: false }),
    options.secrets ?? [],
  );
  return pino(
    {
      name: options.name ?? "sparks",
      level: options.level ?? "info",
      redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    },
    destination,
  );
}
