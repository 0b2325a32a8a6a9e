/** A failure the CLI reports as one line (`sparks: <message>`) and a non-zero exit. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
