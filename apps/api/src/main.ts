import { ConfigError, loadConfig } from "@sparks/config";

// `sparks api`: the API on its own. The environment is read here, once, and nowhere else.
try {
  const config = loadConfig(process.env);
  // Loaded after the config is valid, so a typo in a variable is reported without first
  // paying for loading Fastify, drizzle and BullMQ.
  const { startApi } = await import("./start-api");
  const { exitOnSignals } = await import("./shutdown");
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
