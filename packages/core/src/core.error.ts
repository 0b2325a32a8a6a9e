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
export class CoreError extends Error {
  override readonly name = "CoreError";
  readonly code: CoreErrorCode;

  constructor(code: CoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
