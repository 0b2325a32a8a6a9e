import { BaseError } from "@sparks/core";
/** Raised when a driver hands back a raw result in a shape neither known driver produces. */
export class UnexpectedQueryResultError extends BaseError {
  override readonly name = "UnexpectedQueryResultError";
  constructor(message: string) {
    super(message, { retryable: false, code: "unexpected_query_result" });
  }
}
