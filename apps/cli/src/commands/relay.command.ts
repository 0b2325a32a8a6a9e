import { loadConfig } from "@sparks/config";
import type { Command } from "commander";
import { waitForShutdownSignal } from "../signals";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`not a TCP port: ${value}`);
  return n;
}

/**
 * `sparks relay`: for Flowise 3.x (legacy batches only) in front of a Langfuse v4 server or
 * Langfuse Cloud after the v4 cut-over, which refuse legacy traces. See docs/flowise.md.
 */
export function registerRelay(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("relay")
    .description(
      "accept Langfuse legacy batches (Flowise 3.x) and forward them to Langfuse as OTLP (runs until stopped)",
    )
    .option("--port <port>", "port to listen on", port, 3040)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--target <url>", "Langfuse to forward to (default RELAY_TARGET_URL, else LANGFUSE_BASEURL)")
    .action(async (opts: { port: number; host: string; target?: string }) => {
      const config = loadConfig(opts.target ? { ...env, RELAY_TARGET_URL: opts.target } : env);
      const { createRelay } = await import("@sparks/relay");
      const relay = await createRelay({
        targetUrl: config.relay.targetUrl,
        port: opts.port,
        host: opts.host,
        maxBufferedBatches: config.relay.maxBufferedBatches,
        log: (level, message) => process.stderr.write(`${level}: ${message}\n`),
      });
      process.stdout.write(`RELAY_URL=${relay.url}\n`);
      process.stderr.write(
        `Relay: legacy batches at ${relay.url}/api/public/ingestion → OTLP at ${config.relay.targetUrl}/api/public/otel/v1/traces\n` +
          `Set ${relay.url} as the "Endpoint" of Flowise's Langfuse credential (keys unchanged). Ctrl-C to stop.\n`,
      );
      await waitForShutdownSignal();
      await relay.close(10_000);
    });
}
