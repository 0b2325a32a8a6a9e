import { ConfigError, loadConfig } from "@sparks/config";
import { exitOnSignals } from "./shutdown";
import { startApi } from "./start-api";

// `sparks api`: the API on its own. The environment is read here, once, and nowhere else.
try {
  const config = loadConfig(process.env);
  const api = await startApi(config);
  exitOnSignals(api.close, {
    onError: (e) =>
      process.stderr.write(`sparks: shutdown failed: ${e instanceof Error ? e.message : String(e)}\n`),
  });
} catch (e) {
  // One line, no stack: a bad variable is an operator's typo, not a crash.
  const message = e instanceof ConfigError ? e.message : e instanceof Error ? e.message : String(e);
  process.stderr.write(`sparks: ${message}\n`);
  process.exit(1);
}
