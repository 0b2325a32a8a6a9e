import { loadConfig } from "@sparks/config";
import type { InvoiceComparison, ReconcileReport } from "@sparks/worker";
import type { Command } from "commander";
import { CliError } from "../cli-error";

interface ReconcileCliOptions {
  month: string;
  json?: boolean;
  repair?: boolean;
}

function pad(value: string, width: number, right = false): string {
  if (value.length >= width) return value;
  const fill = " ".repeat(width - value.length);
  return right ? fill + value : value + fill;
}

export function formatReconciliation(r: ReconcileReport): string {
  const head = `  ${pad("CUSTOMER", 24)} ${pad("CATEGORY", 10)} ${pad("LANGFUSE", 14, true)} ${pad("LEDGER", 14, true)} ${pad("BILLED", 14, true)} ${pad("SENT", 10, true)} ${pad("STRIPE", 10, true)} ${pad("LF-LEDGER", 12, true)} ${pad("STRIPE-SENT", 12, true)}`;
  const rows = r.rows.map(
    (x) =>
      `  ${pad(x.customer_id, 24)} ${pad(x.category, 10)} ${pad(x.langfuse_sparks ?? "-", 14, true)} ${pad(x.ledger_occurred_sparks, 14, true)} ${pad(x.ledger_exact_sparks, 14, true)} ${pad(x.ledger_sent_sparks, 10, true)} ${pad(x.stripe_sparks ?? "-", 10, true)} ${pad(x.drift.langfuse_vs_ledger ?? "-", 12, true)} ${pad(x.drift.ledger_vs_stripe ?? "-", 12, true)}`,
  );
  const margins = r.margins.map(
    (m) =>
      `  ${pad(m.customer_id, 24)} billed $${m.billed_usd}  Langfuse cost $${m.langfuse_cost_usd}  margin ${m.margin_percent === null ? "-" : `${m.margin_percent}%`}${m.below_floor ? "  BELOW FLOOR" : ""}`,
  );
  const repairs = r.repairs.map(
    (a) =>
      `  ${a.customer_id} ${a.category} ${a.action} ${a.identifier ?? "-"} (${a.value}): ${a.outcome} — ${a.detail}`,
  );
  return [
    `Reconciliation ${r.month} (Langfuse ${r.sources.langfuse}, Stripe ${r.sources.stripe}; Sparks)`,
    head,
    ...(rows.length > 0 ? rows : ["  (no usage)"]),
    "Margin",
    ...(margins.length > 0 ? margins : ["  (nothing billed)"]),
    ...(repairs.length > 0 ? ["Repairs", ...repairs] : []),
  ].join("\n");
}

/** The invoice half: Stripe's month-end invoice per customer against the ledger's expected total. */
export function formatInvoiceComparison(c: InvoiceComparison): string {
  if (c.source === "unavailable") return "Invoices\n  (Stripe is not configured)";
  const head = `  ${pad("CUSTOMER", 24)} ${pad("MONTH", 7)} ${pad("INVOICE", 28)} ${pad("STATUS", 7)} ${pad("INVOICE $", 11, true)} ${pad("LEDGER $", 11, true)} ${pad("DRIFT $", 9, true)}`;
  const rows = c.rows.map(
    (x) =>
      `  ${pad(x.customer_id, 24)} ${pad(x.month_status, 7)} ${pad(x.invoice_id ?? "-", 28)} ${pad(x.invoice_status ?? "-", 7)} ${pad(x.invoice_total ?? "-", 11, true)} ${pad(x.ledger_net, 11, true)} ${pad(x.drift ?? "-", 9, true)}${x.matches_ledger ? "" : "  MISMATCH"}${x.hold_reason ? `  held: ${x.hold_reason}` : ""}`,
  );
  return ["Invoices", head, ...(rows.length > 0 ? rows : ["  (no invoices)"])].join("\n");
}

/**
 * SPEC §7 `sparks reconcile --month YYYY-MM [--json]`: Langfuse (re-read) vs the ledger vs
 * Stripe's meter event summaries, per customer and category, with the drift. Read-only;
 * `--repair` also queues a repairing `reconcile` job for the worker (its rate budget, its
 * Stripe sender and audit log).
 */
export function registerReconcile(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("reconcile")
    .description(
      "Langfuse vs ledger vs Stripe for one month, per customer and category, with the drift; each month-end invoice vs the ledger",
    )
    .requiredOption("--month <YYYY-MM>", "UTC calendar month")
    .option("--json", "print the reconciliation as JSON")
    .option("--repair", "also queue a repair job for the worker (re-send missing events, cancel duplicates)")
    .action(async (opts: ReconcileCliOptions) => {
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.month))
        throw new CliError(`--month: must be YYYY-MM: ${opts.month}`);
      const config = loadConfig(env);
      const { createDatabase } = await import("@sparks/db");
      const { join } = await import("node:path");
      const database = config.databaseUrl
        ? await createDatabase({ url: config.databaseUrl })
        : await createDatabase({ dataDir: join(config.dataDir, "pglite") });
      try {
        const { reconcile, reconcileSourcesFrom } = await import("@sparks/worker");
        const sources = reconcileSourcesFrom(config);
        // The report carries the invoice comparison (`invoices`): finalized total vs the report's net.
        const report = await reconcile(
          { config, database, ...sources },
          { month: opts.month, repair: false },
        );
        let repairJob: string | null = null;
        if (opts.repair) repairJob = await queueRepair(config.redisUrl, opts.month);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ...report, repair_job: repairJob }, null, 2)}\n`);
        } else {
          process.stdout.write(
            `${formatReconciliation(report)}\n${formatInvoiceComparison(report.invoices)}\n`,
          );
          if (repairJob) process.stdout.write(`Repair queued as job ${repairJob}\n`);
        }
      } finally {
        await database.close();
      }
    });
}

async function queueRepair(redisUrl: string | null, month: string): Promise<string> {
  const { createRedisConnection, pingRedis, QueueService } = await import("@sparks/queues");
  const url = redisUrl ?? "redis://127.0.0.1:6379";
  const redis = createRedisConnection(url, "producer");
  redis.on("error", () => undefined);
  const queues = new QueueService({ connection: redis });
  try {
    await pingRedis(redis).catch(() => {
      throw new CliError(`Redis at ${url} does not answer (set REDIS_URL, or run \`sparks start\`)`);
    });
    const job = await queues.add("reconcile", { month, repair: true });
    return job.id ?? "?";
  } finally {
    await queues.close().catch(() => undefined);
    redis.disconnect();
  }
}
