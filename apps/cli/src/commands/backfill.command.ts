import { loadConfig } from "@sparks/config";
import type { Command } from "commander";
import { CliError } from "../cli-error";

interface BackfillOptions {
  from: string;
  to: string;
  customer?: string;
  queue?: boolean;
  timeout: number;
  json?: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--timeout: not a whole number of seconds: ${value}`);
  return n;
}

/** Items the run decided (new, changed or corrected): what the bar counts. */
function itemsOf(counts: Record<string, number>): number {
  return (counts.items_new ?? 0) + (counts.items_updated ?? 0) + (counts.corrections ?? 0);
}

/**
 * SPEC §7 `sparks backfill`: a long sync of an explicit window with a progress bar on stderr
 * (items, rate, ETA). By default it runs the workers in this process, so it works alone (no
 * `sparks start` needed) and also pushes what it found to Stripe before it ends; `--queue`
 * only enqueues and follows a worker that runs elsewhere.
 */
export function registerBackfill(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("backfill")
    .description("sync a past window with a progress bar (items, rate, ETA), then wait until it is sent")
    .requiredOption("--from <iso>", "window start (ISO 8601)")
    .requiredOption("--to <iso>", "window end (ISO 8601; clamped to now − LANGFUSE_LAG)")
    .option("--customer <id>", "only this customer (Sparks id or Auth0 user id)")
    .option(
      "--queue",
      "enqueue for a running worker (`sparks start` / `sparks worker`) instead of running in-process",
    )
    .option("--timeout <seconds>", "give up after this long", seconds, 6 * 3600)
    .option("--json", "print the final totals as JSON on stdout")
    .action(async (opts: BackfillOptions) => {
      const { checkWindow, formatCounts, openLedgerContext, parseIsoOption, resolveCustomer } = await import(
        "./ledger-context"
      );
      const from = parseIsoOption("from", opts.from);
      const to = parseIsoOption("to", opts.to);
      if (!from || !to) throw new CliError("--from and --to are required");
      checkWindow(from, to);
      const config = loadConfig(env);
      if (!opts.queue && !(config.langfuse.publicKey && config.langfuse.secretKey)) {
        throw new CliError("LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are required to read Langfuse");
      }
      const ctx = await openLedgerContext(config, "backfill", { allowPglite: !opts.queue });
      const stops: (() => Promise<void>)[] = [];
      try {
        const { createLogger, secretsFromConfig } = await import("@sparks/observability");
        const logger = createLogger({ level: config.logLevel }, secretsFromConfig(config));
        if (!opts.queue) {
          const { migrateDatabase } = await import("@sparks/db");
          await migrateDatabase(ctx.database);
          const { startWorker } = await import("@sparks/worker");
          const worker = await startWorker({
            config,
            database: ctx.database,
            redisUrl: ctx.redisUrl,
            logger,
            schedulers: false,
          });
          stops.push(() => worker.close());
        }
        const { requestSync, waitForSyncRun } = await import("@sparks/ledger");
        const customerId = await resolveCustomer(ctx.database, opts.customer);
        const queued = await requestSync(ctx.ledger, {
          from: from.toISOString(),
          to: to.toISOString(),
          customerId,
          trigger: "backfill",
        });
        const deadline = Date.now() + opts.timeout * 1000;
        const { Presets, SingleBar } = await import("cli-progress");
        const tty = Boolean(process.stderr.isTTY);
        const bar = new SingleBar(
          {
            stream: process.stderr,
            format:
              "backfill [{bar}] {percentage}% | {items} items | {traces} traces | {rate} items/s | ETA {eta_formatted}",
            // Without a terminal (CI, pipes) print a progress line every second instead of redrawing.
            noTTYOutput: !tty,
            notTTYSchedule: 1_000,
            etaBuffer: 20,
            hideCursor: tty,
          },
          Presets.shades_classic,
        );
        const started = Date.now();
        const span = Math.max(1, to.getTime() - from.getTime());
        bar.start(1_000, 0, { items: 0, traces: 0, rate: "0.0" });
        const run = await waitForSyncRun(ctx.ledger, queued.syncId, {
          timeoutMs: Math.max(0, deadline - Date.now()),
          intervalMs: 500,
          onProgress: (r) => {
            const items = itemsOf(r.counts);
            const done =
              r.status === "completed" ? 1 : r.position ? (r.position.getTime() - from.getTime()) / span : 0;
            bar.update(Math.round(Math.min(1, Math.max(0, done)) * 1_000), {
              items,
              traces: r.counts.traces ?? 0,
              rate: (items / Math.max(0.001, (Date.now() - started) / 1000)).toFixed(1),
            });
          },
        });
        bar.stop();
        if (!run) throw new CliError(`backfill ${queued.syncId} vanished`);
        if (run.status === "failed") {
          throw new CliError(`backfill ${run.syncId} failed: ${run.error ?? "unknown error"}`);
        }
        if (run.status !== "completed") {
          throw new CliError(
            `backfill ${run.syncId} still ${run.status} after ${opts.timeout} s${opts.queue ? " (is a worker running?)" : ""}`,
          );
        }
        // The sync only writes the ledger; wait until its push jobs have drained to Stripe.
        const { UsageItemRepository } = await import("@sparks/db");
        const items = new UsageItemRepository(ctx.database.db);
        let ledger = await items.countByStatus();
        while ((ledger.pending ?? 0) + (ledger.sending ?? 0) > 0) {
          if (Date.now() > deadline) {
            throw new CliError(
              `backfill ${run.syncId}: ${(ledger.pending ?? 0) + (ledger.sending ?? 0)} items still unsent after ${opts.timeout} s`,
            );
          }
          process.stderr.write(`sending: ${ledger.pending ?? 0} pending, ${ledger.sending ?? 0} in flight\n`);
          await new Promise((r) => setTimeout(r, 1_000));
          ledger = await items.countByStatus();
        }
        const out = {
          sync_id: run.syncId,
          status: run.status,
          window: { from: run.window.from?.toISOString() ?? null, to: run.window.to?.toISOString() ?? null },
          counts: run.counts,
          processed_trace_total: run.processedTraceTotal,
          seconds: Math.round((Date.now() - started) / 100) / 10,
          ledger,
        };
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(out)}\n`
            : `backfill ${run.syncId} completed in ${out.seconds} s: ${run.processedTraceTotal} traces, ${itemsOf(run.counts)} items\n` +
                `  ${formatCounts(run.counts)}\n  ledger: ${formatCounts(ledger)}\n`,
        );
      } finally {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
        await ctx.close();
      }
    });
}
