import { BaseError } from "./base.error";

export type CoreErrorCode =
  | "invalid_decimal"
  | "invalid_sparks"
  | "invalid_rate"
  | "invalid_quantity"
  | "invalid_month"
  | "invalid_date"
  | "invalid_argument";

/**
 * Thrown only for programmer/config mistakes that a caller could have prevented (e.g. a rate
 * string the config package should already have rejected). Data coming from traces never
 * throws: it is reported as a quarantine reason instead.
 */
export class CoreError extends BaseError {
  override readonly name: string = "CoreError";
  declare readonly code: CoreErrorCode;

  constructor(code: CoreErrorCode, message: string) {
    // A programmer/config mistake: the same call fails the same way on every retry.
    super(message, { retryable: false, code });
  }
}
