import { loadConfig } from "@sparks/config";
import type { Command } from "commander";
import { CliError } from "../cli-error";

interface QuotaCapOptions {
  customer: string;
  usd?: string;
  sparks?: string;
  soft?: boolean;
  clear?: boolean;
  json?: boolean;
}

/**
 * `sparks quota:cap --customer ID (--usd 250 | --sparks 250000) [--soft] | --clear`: the same
 * as `PUT /quota/cap` / `DELETE /quota/cap`. A paid customer's monthly spend cap: hard (usage
 * refused at 100%, reason `spend_cap_exceeded`) or soft (alerts only); alerts at 50/80/100%.
 * The API picks a change up within a second (its customer cache).
 */
export function registerQuotaCap(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("quota:cap")
    .description("set or clear a paid customer's monthly spend cap in USD or Sparks (admin)")
    .requiredOption("--customer <id>", "Sparks customer id or Auth0 user id")
    .option("--usd <decimal>", "cap in USD, e.g. 250 or 99.50")
    .option("--sparks <decimal>", "cap in Sparks, e.g. 250000")
    .option("--soft", "alert at 50/80/100% but never refuse")
    .option("--clear", "remove the cap")
    .option("--json", "print the result as JSON")
    .action(async (opts: QuotaCapOptions) => {
      const config = loadConfig(env);
      const given = [opts.usd, opts.sparks].filter((v) => v !== undefined).length;
      if (opts.clear ? given > 0 : given !== 1) {
        throw new CliError(
          opts.clear ? "--clear: takes no --usd or --sparks" : "--usd or --sparks: give exactly one of them",
        );
      }
      const { spendCapAmountProblem, spendCapSparks } = await import("@sparks/core");
      const unit = opts.usd !== undefined ? ("usd" as const) : ("sparks" as const);
      const amount = (opts.usd ?? opts.sparks ?? "").trim();
      const problem = opts.clear ? null : spendCapAmountProblem(amount);
      if (problem) throw new CliError(`--${unit}: ${problem}`);
      const { CustomerRepository, QuotaRepository } = await import("@sparks/db");
      const { openLedgerContext } = await import("./ledger-context");
      const ctx = await openLedgerContext(config, "quota:cap", { redis: false });
      try {
        const row = await new CustomerRepository(ctx.database.db).findByReference(opts.customer);
        if (!row) throw new CliError(`--customer: no customer ${opts.customer}`);
        const caps = new QuotaRepository(ctx.database.db);
        if (opts.clear) {
          const removed = await caps.clearCap(row.id);
          const out = { customer_id: row.id, removed };
          process.stdout.write(
            opts.json === true
              ? `${JSON.stringify(out, null, 2)}\n`
              : `customer ${row.id}: ${removed ? "spend cap removed" : "had no spend cap"}\n`,
          );
          return;
        }
        if (row.tier === "free") {
          throw new CliError(
            "--customer: a free customer is hard-capped at its tier quota; spend caps are for paid tiers",
          );
        }
        const cap = await caps.setCap({
          customerId: row.id,
          unit,
          amount,
          soft: opts.soft === true,
          setBy: "cli",
        });
        const out = {
          customer_id: cap.customerId,
          unit: cap.unit,
          amount: cap.amount,
          sparks: spendCapSparks(cap, config.billing.sparkRateUsd),
          soft: cap.soft,
        };
        process.stdout.write(
          opts.json === true
            ? `${JSON.stringify(out, null, 2)}\n`
            : `customer ${out.customer_id}: ${out.soft ? "soft" : "hard"} spend cap ${out.amount} ${out.unit === "usd" ? "USD" : "Sparks"} = ${out.sparks} Sparks a month\n`,
        );
      } finally {
        await ctx.close();
      }
    });
}
