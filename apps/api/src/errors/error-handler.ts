import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HttpError } from "./http-errors";
import { isClientAbort, safeErrorForLog } from "./safe-error-log";

export interface ValidationIssue {
  /** Dotted path inside `in`, e.g. `month` or `error_ids.2`; empty for the whole part. */
  field: string;
  /** Where the field was: body, querystring, params or headers. */
  in: string;
  message: string;
}

interface ValidationEntry {
  instancePath?: string;
  message?: string;
}

/** Status code → the `error` code of the JSON body, for errors Fastify raises itself. */
const FASTIFY_4XX: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  406: "not_acceptable",
  408: "request_timeout",
  413: "payload_too_large",
  414: "uri_too_long",
  415: "unsupported_media_type",
  429: "too_many_requests",
  431: "headers_too_large",
};

function isFastifyError(e: unknown): e is FastifyError {
  return e instanceof Error;
}

function toIssues(error: FastifyError): ValidationIssue[] {
  const where = error.validationContext ?? "body";
  return ((error.validation ?? []) as ValidationEntry[]).map((v) => ({
    field: (v.instancePath ?? "").replace(/^\//, "").split("/").filter(Boolean).join("."),
    in: where,
    message: v.message ?? "is invalid",
  }));
}

function describe(issue: ValidationIssue): string {
  return `${issue.field || issue.in}: ${issue.message}`;
}

/**
 * SPEC §4: bad input gets a 4xx that names the field and says why, never a 500. Unexpected
 * errors answer 500 with only the request id, so internals (SQL, stack, secrets) stay in logs.
 */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof HttpError) {
      if (err.statusCode >= 500) request.log.warn({ err }, err.message);
      // RFC 6750: a 401 tells the client which scheme to use.
      if (err.statusCode === 401) reply.header("www-authenticate", 'Bearer realm="sparks"');
      return reply.status(err.statusCode).send({ error: err.code, message: err.message, ...err.details });
    }
    if (isFastifyError(err) && Array.isArray(err.validation)) {
      const issues = toIssues(err);
      const message = issues.map(describe).join("; ") || "request is invalid";
      return reply.status(400).send({ error: "bad_request", message, issues });
    }
    const status = isFastifyError(err) ? (err.statusCode ?? 500) : 500;
    if (isFastifyError(err) && status >= 400 && status < 500) {
      // Fastify's own 4xx (bad JSON, body too large, bad content type) carry safe messages.
      const message =
        err.code === "FST_ERR_CTP_INVALID_JSON_BODY" || err instanceof SyntaxError
          ? "body: is not valid JSON"
          : err.message;
      return reply.status(status).send({ error: FASTIFY_4XX[status] ?? "bad_request", message });
    }
    if (isClientAbort(err, request)) {
      // The client went away mid-body: nobody to answer, nothing wrong here. An info line, so a
      // public endpoint cannot be used to flood the error log.
      request.log.info(
        { reason: isFastifyError(err) ? err.message : String(err) },
        "request aborted by the client",
      );
      return reply
        .status(400)
        .send({ error: "request_aborted", message: "the request body was not completed" });
    }
    // Never the raw error: a failed query's message and properties carry its SQL parameters.
    request.log.error({ err: safeErrorForLog(err) }, "unhandled error");
    return reply.status(500).send({
      error: "internal_error",
      message: `unexpected error; quote request id ${request.id} to the operator`,
      request_id: request.id,
    });
  });

  app.setNotFoundHandler((request, reply) => {
    return reply
      .status(404)
      .send({ error: "not_found", message: `no route ${request.method} ${request.url.split("?")[0]}` });
  });
}
