/** The `error` object of a Stripe error response, as the SDK parses it. */
export interface StripeErrorBody {
  type: string;
  code?: string;
  message: string;
  param?: string;
  doc_url?: string;
}

/**
 * A refusal that the emulator answers with a Stripe-shaped error body. Thrown by handlers and
 * turned into an HTTP response in one place, so every refusal is recorded the same way.
 */
export class StripeApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;
  readonly headers: Record<string, string>;

  constructor(status: number, body: StripeErrorBody, headers: Record<string, string> = {}) {
    super(body.message);
    this.name = "StripeApiError";
    this.status = status;
    this.body = body;
    this.headers = headers;
  }

  static invalid(message: string, param?: string, code?: string, status = 400): StripeApiError {
    const body: StripeErrorBody = { type: "invalid_request_error", message };
    if (code !== undefined) body.code = code;
    if (param !== undefined) body.param = param;
    return new StripeApiError(status, body);
  }

  static missing(param: string): StripeApiError {
    return StripeApiError.invalid(`Missing required param: ${param}.`, param, "parameter_missing");
  }

  static unknownParam(param: string): StripeApiError {
    return StripeApiError.invalid(`Received unknown parameter: ${param}`, param, "parameter_unknown");
  }

  static noSuch(kind: string, id: string, param = "id", status = 404): StripeApiError {
    return StripeApiError.invalid(`No such ${kind}: '${id}'`, param, "resource_missing", status);
  }

  static rateLimited(message: string, shouldRetry?: boolean): StripeApiError {
    const headers: Record<string, string> = {};
    if (shouldRetry !== undefined) headers["Stripe-Should-Retry"] = String(shouldRetry);
    return new StripeApiError(429, { type: "invalid_request_error", code: "rate_limit", message }, headers);
  }
}
