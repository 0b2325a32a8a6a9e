/** Raised when a driver hands back a raw result in a shape neither known driver produces. */
export class UnexpectedQueryResultError extends Error {
  override readonly name = "UnexpectedQueryResultError";
}
