import { BaseError } from "@sparks/core";

/**
 * Errors a route throws to answer with a given status. The global error handler turns them
 * into `{ error: code, message, ...details }`; anything else becomes an opaque 500.
 */
export class HttpError extends BaseError {
  override readonly name: string = "HttpError";
  constructor(
    readonly statusCode: number,
    code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    // A 503 may succeed on a later try; any other 4xx/5xx answer here will not.
    super(message, { retryable: statusCode === 503, code, context: details });
  }
}

export class BadRequestError extends HttpError {
  override readonly name = "BadRequestError";
  constructor(message: string, details: Record<string, unknown> = {}, code = "bad_request") {
    super(400, code, message, details);
  }
}

export class UnauthorizedError extends HttpError {
  override readonly name = "UnauthorizedError";
  constructor(message: string) {
    super(401, "unauthorized", message);
  }
}

export class ForbiddenError extends HttpError {
  override readonly name = "ForbiddenError";
  constructor(message: string, code = "forbidden") {
    super(403, code, message);
  }
}

export class NotFoundError extends HttpError {
  override readonly name = "NotFoundError";
  constructor(message: string, code = "not_found") {
    super(404, code, message);
  }
}

export class ConflictError extends HttpError {
  override readonly name = "ConflictError";
  constructor(message: string, details: Record<string, unknown> = {}, code = "conflict") {
    super(409, code, message, details);
  }
}

export class ServiceUnavailableError extends HttpError {
  override readonly name = "ServiceUnavailableError";
  constructor(code: string, message: string) {
    super(503, code, message);
  }
}
