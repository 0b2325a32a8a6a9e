import type { FastifyRequest } from "fastify";

const ABORT_CODES = new Set(["ECONNRESET", "ERR_STREAM_PREMATURE_CLOSE", "ECONNABORTED", "EPIPE"]);

/** The request failed because the client aborted it (closed the socket mid-body). */
export function isClientAbort(err: unknown, request: FastifyRequest): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string" && ABORT_CODES.has(code)) return true;
  if (err instanceof Error && /^(aborted|request aborted)$/i.test(err.message)) return true;
  return request.raw.aborted === true || (request.raw.destroyed && !request.raw.complete);
}

// drizzle's "Failed query: <sql>\nparams: <values>" and postgres.js' `parameters`/`query`.
const PARAMS_TAIL = /\n?\s*params:[\s\S]*$/;

function scrubParams(text: string): string {
  return text.replace(PARAMS_TAIL, " [params redacted]");
}

/**
 * Postgres quotes the offending value in its messages (`invalid input syntax for type integer:
 * "…"`, `Key (email)=(…) already exists`): database errors keep their shape, not the values.
 */
function scrubDatabaseMessage(text: string): string {
  return text.replace(/"[^"]*"/g, '"[redacted]"').replace(/=\([^)]*\)/g, "=([redacted])");
}

function isDatabaseError(err: Error): boolean {
  return err.name === "PostgresError" || typeof (err as { severity?: unknown }).severity === "string";
}

export interface SafeLoggedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SafeLoggedError;
}

/**
 * A loggable copy of an unexpected error without the SQL parameters (customer ids, e-mails,
 * whatever a query carried): only type, message (params cut off), code and stack, recursively
 * for `cause`. Never the error's own enumerable properties, where drivers keep `parameters`.
 */
export function safeErrorForLog(err: unknown, depth = 0): SafeLoggedError {
  if (!(err instanceof Error)) return { type: typeof err, message: "non-Error thrown" };
  const code = (err as { code?: unknown }).code;
  const scrub = isDatabaseError(err) ? (t: string) => scrubDatabaseMessage(scrubParams(t)) : scrubParams;
  const safe: SafeLoggedError = {
    type: err.name,
    message: scrub(err.message),
    ...(typeof code === "string" ? { code } : {}),
    ...(err.stack ? { stack: scrub(err.stack.replace(err.message, scrub(err.message))) } : {}),
  };
  if (err.cause !== undefined && depth < 3) safe.cause = safeErrorForLog(err.cause, depth + 1);
  return safe;
}
