/** `LOG_FORMAT`: `pretty` for people, `json` for log collectors, `auto` decides per process. */
export type LogFormat = "pretty" | "json" | "auto";

export interface LogFormatContext {
  /** Whether stdout is a terminal (`process.stdout.isTTY`). */
  isTty: boolean;
  /** `NODE_ENV === "production"`: JSON always, whatever the terminal. */
  production: boolean;
}

/**
 * Pretty only when a person is watching: stdout is a terminal and this is not production.
 * Piped, redirected or in production, JSON. An explicit `pretty` or `json` wins.
 */
export function resolveLogFormat(format: LogFormat, context: LogFormatContext): "pretty" | "json" {
  if (format !== "auto") return format;
  return context.isTty && !context.production ? "pretty" : "json";
}
