/** Thrown when seeding data (code, JSON file, generator options) is malformed. */
export class LangfuseEmulatorInputError extends Error {
  override readonly name = "LangfuseEmulatorInputError";
}
