import type { UsageReport } from "@sparks/api";
import { loadConfig } from "@sparks/config";
import type { Command } from "commander";
import { CliError } from "../cli-error";

interface ReportOptions {
  month: string;
  customer?: string;
  json?: boolean;
}

function pad(value: string, width: number, right = false): string {
  if (value.length >= width) return value;
  const fill = " ".repeat(width - value.length);
  return right ? fill + value : value + fill;
}

export function formatReport(r: UsageReport): string {
  const rows = r.categories.map(
    (c) =>
      `  ${pad(c.category, 18)} ${pad(c.quantity, 16, true)} ${pad(c.unit ?? "", 12)} ${pad(c.sparks, 18, true)} ${pad(c.sent_sparks, 12, true)} ${pad(String(c.items), 8, true)}`,
  );
  return [
    `Customer ${r.customer_id}  month ${r.month}  tier ${r.tier}  status ${r.status}${r.closed ? "  (closed)" : ""}`,
    `  ${pad("CATEGORY", 18)} ${pad("QUANTITY", 16, true)} ${pad("UNIT", 12)} ${pad("SPARKS", 18, true)} ${pad("SENT", 12, true)} ${pad("ITEMS", 8, true)}`,
    ...rows,
    `  ${pad("TOTAL", 18)} ${pad("", 16)} ${pad("", 12)} ${pad(r.total_sparks, 18, true)} ${pad(r.total_sent_sparks, 12, true)}`,
    `  USD gross ${r.usd.display.gross}  discount ${r.usd.display.discount}  net ${r.usd.display.net}  (rate ${r.usd.rate}/Spark)`,
    `  quota ${r.quota.used} used of ${r.quota.limit ?? "unlimited"}   not billed: ${r.not_billed.quarantined} quarantined, ${r.not_billed.unbillable} unbillable`,
    // Only when something was given back: billed (what Stripe's meters bill), credited, net.
    ...(r.corrections.entries.length > 0 || r.corrections.pending > 0
      ? [
          `  Stripe billed ${r.corrections.usd.billed}  credited ${r.corrections.usd.credited}  net ${r.corrections.usd.net}  (${r.corrections.cancelled_sparks} Sparks cancelled, ${r.corrections.credited_sparks} credited, ${r.corrections.pending} correction(s) pending)`,
        ]
      : []),
  ].join("\n");
}

/**
 * SPEC §7 `sparks report`: the monthly report of `GET /usage/report` (the API's use-case, so
 * both always agree). Without --customer: every customer with usage that month.
 */
export function registerReport(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("report")
    .description("the monthly usage report (Sparks, USD, discount, quota) per customer")
    .requiredOption("--month <YYYY-MM>", "UTC calendar month")
    .option(
      "--customer <id>",
      "one customer (Sparks id or Auth0 user id); default: every customer with usage",
    )
    .option("--json", "print JSON (one report, or { month, reports: [...] } without --customer)")
    .action(async (opts: ReportOptions) => {
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.month))
        throw new CliError(`--month: must be YYYY-MM: ${opts.month}`);
      const config = loadConfig(env);
      const { openLedgerContext, resolveCustomer } = await import("./ledger-context");
      const ctx = await openLedgerContext(config, "report", { allowPglite: true, redis: false });
      try {
        const { UsageReportUseCase } = await import("@sparks/api");
        const reports = new UsageReportUseCase(ctx.database.db, config);
        const one = await resolveCustomer(ctx.database, opts.customer);
        if (one) {
          const report = await reports.build(one, opts.month);
          process.stdout.write(
            opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`,
          );
          return;
        }
        const { customers } = await import("@sparks/db");
        const all = await ctx.database.db.select({ id: customers.id }).from(customers).orderBy(customers.id);
        const built: UsageReport[] = [];
        for (const c of all) {
          const report = await reports.build(c.id, opts.month);
          if (report.categories.some((cat) => cat.items > 0) || report.not_billed.quarantined > 0)
            built.push(report);
        }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ month: opts.month, reports: built }, null, 2)}\n`);
          return;
        }
        process.stdout.write(
          built.length === 0 ? `no usage in ${opts.month}\n` : `${built.map(formatReport).join("\n\n")}\n`,
        );
      } finally {
        await ctx.close();
      }
    });
}
