import { loadConfig } from "@sparks/config";
import type { Command } from "commander";
import { CliError } from "../cli-error";

interface ErrorsOptions {
  json?: boolean;
  limit: number;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--limit: not a positive whole number: ${value}`);
  return n;
}

function pad(value: string, width: number): string {
  return value.length >= width ? value : value + " ".repeat(width - value.length);
}

/** SPEC §7 `sparks errors [list|retry ID...]`: the ledger's error list (as GET /usage/errors) and retries. */
export function registerErrors(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("errors")
    .description("list failed/quarantined items and failed jobs, or retry items: errors retry ui_12 ui_13")
    .argument("[action]", "list | retry", "list")
    .argument("[ids...]", "error ids to retry (ui_<n>)")
    .option("--limit <n>", "at most this many items", count, 1_000)
    .option("--json", "print JSON")
    .action(async (action: string, ids: string[], opts: ErrorsOptions) => {
      if (action !== "list" && action !== "retry")
        throw new CliError(`errors: unknown action ${action} (list | retry)`);
      if (action === "retry" && ids.length === 0)
        throw new CliError("errors retry: give at least one error id");
      if (action === "list" && ids.length > 0)
        throw new CliError("errors list: takes no ids (did you mean retry?)");
      const config = loadConfig(env);
      const { openLedgerContext } = await import("./ledger-context");
      const ctx = await openLedgerContext(config, "errors");
      try {
        const { ledgerErrorsJson, listLedgerErrors } = await import("@sparks/ledger");
        // The retry runs here, as a worker would: it re-derives from staging (no adapter needed).
        const { retryLedgerErrors } = await import("@sparks/worker");
        if (action === "retry") {
          const outcomes = await retryLedgerErrors(ctx.ledger, [...new Set(ids)]);
          const results = outcomes.map((o) => ({ error_id: o.errorId, status: o.status, reason: o.reason }));
          if (opts.json) process.stdout.write(`${JSON.stringify({ results })}\n`);
          else {
            for (const r of results) {
              process.stdout.write(
                `${pad(r.error_id, 14)} ${pad(r.status ?? "unknown", 12)} ${r.reason ?? ""}\n`,
              );
            }
          }
          // Ids that named nothing are the caller's mistake: say so in the exit code too.
          const unknown = results.filter((r) => r.status === null).length;
          if (unknown > 0) throw new CliError(`${unknown} of ${results.length} error id(s) named no item`, 2);
          return;
        }
        const { items, failedJobs } = await listLedgerErrors(ctx.ledger, { limit: opts.limit });
        if (opts.json) {
          const out = ledgerErrorsJson({ items, failedJobs });
          process.stdout.write(`${JSON.stringify(out)}\n`);
          return;
        }
        const lines = [
          `${items.length} ledger error(s), ${failedJobs.length} failed job(s)`,
          ...(items.length > 0
            ? [
                `${pad("ERROR ID", 14)} ${pad("STATUS", 12)} ${pad("URGENCY", 8)} ${pad("SPARKS", 14)} ${pad("USD", 10)} ${pad("FINALIZES", 20)} REASON`,
              ]
            : []),
          ...items.map(
            (e) =>
              `${pad(e.errorId, 14)} ${pad(e.status, 12)} ${pad(e.urgency, 8)} ${pad(e.amountAtRisk.sparks, 14)} ${pad(e.amountAtRisk.usd, 10)} ${pad(e.finalizesAt.toISOString().slice(0, 16), 20)} ${e.reason ?? ""}`,
          ),
          ...failedJobs.map(
            (j) => `failed job ${j.queue}/${j.jobId} after ${j.attemptsMade} attempt(s): ${j.failedReason}`,
          ),
        ];
        process.stdout.write(`${lines.join("\n")}\n`);
      } finally {
        await ctx.close();
      }
    });
}
