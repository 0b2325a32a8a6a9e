/**
 * A configuration problem. The message is one line that names the variable and says why,
 * so `sparks` can print it and exit without a stack trace.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly variable: string,
    readonly why: string,
  ) {
    super(`${variable}: ${why}`);
  }
}
