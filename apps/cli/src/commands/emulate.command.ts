import type { Command } from "commander";
import { waitForShutdownSignal } from "../signals";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`not a TCP port: ${value}`);
  return n;
}

export function registerEmulate(program: Command): void {
  program
    .command("emulate")
    .description(
      "local Langfuse-compatible and Stripe-compatible servers with demo data (runs until stopped)",
    )
    .option("--langfuse-port <port>", "Langfuse emulator port", port, 3030)
    .option("--stripe-port <port>", "Stripe emulator port", port, 12111)
    .option("--traces <n>", "demo traces to seed", (v) => Number.parseInt(v, 10), 600)
    .option("--webhook-url <url>", "deliver Stripe webhooks here (e.g. http://127.0.0.1:3000/stripe/webhook)")
    .option(
      "--events-only",
      "answer legacy batch ingestion of traces and observations as a Langfuse v4 server in events_only mode (400 per event)",
    )
    .action(
      async (opts: {
        langfusePort: number;
        stripePort: number;
        traces: number;
        webhookUrl?: string;
        eventsOnly?: boolean;
      }) => {
        const { startDemoEmulators } = await import("@sparks/emulators");
        const demo = await startDemoEmulators({
          langfusePort: opts.langfusePort,
          stripePort: opts.stripePort,
          traces: opts.traces,
          webhookUrl: opts.webhookUrl,
        });
        if (opts.eventsOnly) demo.langfuse.setLegacyIngestion("events_only");
        // stdout carries only NAME=value lines, so `export $(pnpm -s sparks emulate | head -6)` works.
        for (const [name, value] of Object.entries(demo.env)) process.stdout.write(`${name}=${value}\n`);
        process.stderr.write(
          `\nLangfuse emulator: ${demo.langfuse.url} (${demo.langfuse.store.traceCount} demo traces)\n` +
            `  public key ${demo.langfuse.publicKey}, secret key ${demo.langfuse.secretKey}\n` +
            `  OTLP/HTTP traces (JSON or protobuf): ${demo.langfuse.otlpTracesUrl}\n` +
            `  legacy batches: ${demo.langfuse.url}/api/public/ingestion (${opts.eventsOnly ? "refused: events_only, use sparks relay" : "accepted"})\n` +
            `Stripe emulator:   ${demo.stripe.url}\n` +
            `Demo customers (Auth0 user ids used as customer_id): ${demo.customers.join(", ")}\n` +
            "Export the lines above in another shell, then `pnpm sparks stripe:setup` and `pnpm sparks start`.\n" +
            "Press Ctrl-C to stop.\n",
        );
        await waitForShutdownSignal();
        await demo.close();
      },
    );
}
