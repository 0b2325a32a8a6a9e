import { LangfuseAPIError, LangfuseAPITimeoutError } from "@langfuse/core";
import { LangfuseError } from "./langfuse.error";
import { parseRetryAfter } from "./retry-after.parser";

const KEYS_REJECTED =
  "Langfuse rejected the keys: check LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY (and LANGFUSE_BASEURL: keys belong to one region/host)";

function headerOf(error: LangfuseAPIError, name: string): string | null {
  const headers: unknown = error.rawResponse?.headers;
  return headers instanceof Headers ? headers.get(name) : null;
}

function bodyMessage(body: unknown): string {
  if (typeof body === "string") return body.slice(0, 300);
  if (typeof body === "object" && body !== null && "message" in body && typeof body.message === "string") {
    return body.message.slice(0, 300);
  }
  return "";
}

/**
 * Maps whatever the official client threw to a typed LangfuseError: 429/408/5xx, timeouts and
 * connection failures are retryable; 400/401/403/404 and other 4xx need a person.
 */
export function classifyLangfuseError(error: unknown, endpoint: string, nowMs: number): LangfuseError {
  if (error instanceof LangfuseError) return error;
  if (error instanceof LangfuseAPITimeoutError) {
    return new LangfuseError(`Langfuse ${endpoint} timed out`, { retryable: true, cause: error });
  }
  if (error instanceof LangfuseAPIError) {
    const status = error.statusCode;
    if (status === undefined) {
      // The client's own timeout aborts fetch with the reason "timeout" and reports it as an
      // unknown error (JSON-quoted), not as LangfuseAPITimeoutError.
      if (/^"?timeout"?$/i.test(error.message)) {
        return new LangfuseError(`Langfuse ${endpoint} timed out`, { retryable: true, cause: error });
      }
      // No HTTP answer at all (DNS, refused, reset): the server may come back.
      return new LangfuseError(`Langfuse ${endpoint} failed: ${error.message}`, {
        retryable: true,
        cause: error,
      });
    }
    const detail = bodyMessage(error.body);
    const suffix = detail ? `: ${detail}` : "";
    if (status === 401 || status === 403) {
      return new LangfuseError(`${KEYS_REJECTED} (HTTP ${status} on ${endpoint}${suffix})`, {
        retryable: false,
        status,
        cause: error,
      });
    }
    if (status === 429 || status === 408 || status >= 500) {
      const retryAfterMs = parseRetryAfter(headerOf(error, "retry-after"), nowMs);
      return new LangfuseError(`Langfuse ${endpoint} answered HTTP ${status}${suffix}`, {
        retryable: true,
        status,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        cause: error,
      });
    }
    return new LangfuseError(`Langfuse ${endpoint} answered HTTP ${status}${suffix}`, {
      retryable: false,
      status,
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new LangfuseError(`Langfuse ${endpoint} failed: ${message}`, { retryable: true, cause: error });
}
