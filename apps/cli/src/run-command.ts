import { ConfigError } from "@sparks/config";
import { CliError } from "./cli-error";

/**
 * Every command runs through here: a failure prints one line (`sparks: <reason>`) on stderr
 * and exits non-zero, never a stack trace (set SPARKS_DEBUG=1 to see one).
 */
export async function runCommand(fn: () => Promise<number | undefined>, debug: boolean): Promise<never> {
  try {
    const code = await fn();
    process.exit(typeof code === "number" ? code : 0);
  } catch (e) {
    const message =
      e instanceof ConfigError || e instanceof CliError
        ? e.message
        : e instanceof Error
          ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}`
          : String(e);
    process.stderr.write(`sparks: ${message.split("\n")[0]}\n`);
    if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    process.exit(e instanceof CliError ? e.exitCode : 1);
  }
}
