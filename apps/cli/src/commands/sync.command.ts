import { loadConfig } from "@sparks/config";
import type { Command } from "commander";
import { CliError } from "../cli-error";

interface SyncOptions {
  from?: string;
  to?: string;
  customer?: string;
  wait?: boolean;
  timeout: number;
  json?: boolean;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--timeout: not a whole number of seconds: ${value}`);
  return n;
}

/** SPEC §7 `sparks sync`: the same as `POST /usage/sync` — records the run and enqueues it for a worker. */
export function registerSync(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("sync")
    .description("enqueue a usage sync (default: everything new up to now − LANGFUSE_LAG); a worker runs it")
    .option("--from <iso>", "window start (ISO 8601)")
    .option("--to <iso>", "window end (ISO 8601; clamped to now − LANGFUSE_LAG)")
    .option("--customer <id>", "only this customer (Sparks id or Auth0 user id)")
    .option("--wait", "wait until the run finished and print its counts")
    .option("--timeout <seconds>", "give up waiting after this long", seconds, 600)
    .option("--json", "print JSON")
    .action(async (opts: SyncOptions) => {
      const { checkWindow, formatCounts, openLedgerContext, parseIsoOption, resolveCustomer } = await import(
        "./ledger-context"
      );
      const from = parseIsoOption("from", opts.from);
      const to = parseIsoOption("to", opts.to);
      checkWindow(from, to);
      const config = loadConfig(env);
      const ctx = await openLedgerContext(config, "sync");
      try {
        const { requestSync, waitForSyncRun } = await import("@sparks/ledger");
        const customerId = await resolveCustomer(ctx.database, opts.customer);
        const queued = await requestSync(ctx.ledger, {
          ...(from ? { from: from.toISOString() } : {}),
          ...(to ? { to: to.toISOString() } : {}),
          customerId,
          trigger: "manual",
        });
        if (!opts.wait) {
          const out = { sync_id: queued.syncId, status: queued.status, deduplicated: queued.deduplicated };
          process.stdout.write(
            opts.json
              ? `${JSON.stringify(out)}\n`
              : `sync ${queued.syncId} ${queued.status}${queued.deduplicated ? " (joined the active run)" : ""}\n`,
          );
          return;
        }
        const run = await waitForSyncRun(ctx.ledger, queued.syncId, { timeoutMs: opts.timeout * 1000 });
        if (!run) throw new CliError(`sync ${queued.syncId} vanished`);
        if (run.status === "failed")
          throw new CliError(`sync ${run.syncId} failed: ${run.error ?? "unknown error"}`);
        if (run.status !== "completed") {
          throw new CliError(
            `sync ${run.syncId} still ${run.status} after ${opts.timeout} s (is a worker running? \`sparks worker\` or \`sparks start\`)`,
          );
        }
        const out = {
          sync_id: run.syncId,
          status: run.status,
          window: { from: run.window.from?.toISOString() ?? null, to: run.window.to?.toISOString() ?? null },
          counts: run.counts,
          processed_trace_total: run.processedTraceTotal,
        };
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(out)}\n`
            : `sync ${run.syncId} completed: ${run.processedTraceTotal} traces (${out.window.from} → ${out.window.to})\n${formatCounts(run.counts)}\n`,
        );
      } finally {
        await ctx.close();
      }
    });
}
