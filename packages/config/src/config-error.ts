import { BaseError } from "@sparks/core";
/**
 * A configuration problem. The message is one line that names the variable and says why,
 * so `sparks` can print it and exit without a stack trace.
 */
export class ConfigError extends BaseError<{ variable: string }> {
  override readonly name = "ConfigError";
  constructor(
    readonly variable: string,
    readonly why: string,
  ) {
    // Retrying with the same environment cannot help.
    super(`${variable}: ${why}`, { retryable: false, code: "config_invalid", context: { variable } });
  }
}
