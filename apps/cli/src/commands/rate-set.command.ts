import { loadConfig } from "@sparks/config";
import type { Command } from "commander";
import { CliError } from "../cli-error";

interface RateSetOptions {
  customer: string;
  usdPerSpark: string;
  json?: boolean;
}

/**
 * `sparks rate:set --customer ID --usd-per-spark 0.0008`: the same operation as
 * `POST /customers/:customer_id/rate` (the API's use-case): the enterprise customer's own
 * Stripe prices at that rate, swapped into its subscription, and the rate on the ledger.
 */
export function registerRateSet(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("rate:set")
    .description("set an enterprise customer's negotiated rate: its own Stripe prices, swapped in (admin)")
    .requiredOption("--customer <id>", "Sparks customer id or Auth0 user id")
    .requiredOption("--usd-per-spark <decimal>", "USD per Spark, e.g. 0.0008")
    .option("--json", "print the result as JSON")
    .action(async (opts: RateSetOptions) => {
      const config = loadConfig(env);
      if (!config.stripe.secretKey) throw new CliError("STRIPE_SECRET_KEY is required for rate:set");
      const { createBillingStripe, HttpError, SetRateUseCase } = await import("@sparks/api");
      const { openLedgerContext } = await import("./ledger-context");
      const ctx = await openLedgerContext(config, "rate:set", { redis: false });
      try {
        const result = await new SetRateUseCase({
          database: ctx.database,
          stripe: createBillingStripe(config),
        }).run({ customer: opts.customer, usdPerSpark: opts.usdPerSpark });
        const out = {
          customer_id: result.customerId,
          usd_per_spark: result.usdPerSpark,
          previous_usd_per_spark: result.previousUsdPerSpark,
          subscription_id: result.subscription.id,
          prices: result.prices.map((p) => ({
            category: p.category,
            price: p.priceId,
            lookup_key: p.lookupKey,
          })),
          warnings: result.warnings,
        };
        process.stdout.write(
          opts.json === true
            ? `${JSON.stringify(out, null, 2)}\n`
            : [
                `customer ${out.customer_id}: ${out.usd_per_spark} USD/Spark (was ${out.previous_usd_per_spark ?? "SPARK_RATE"}) on ${out.subscription_id}`,
                ...out.prices.map((p) => `  ${p.category}: ${p.price} (${p.lookup_key})`),
                ...out.warnings.map((w) => `  ! ${w}`),
              ].join("\n") + "\n",
        );
      } catch (e) {
        // The API's answers (400 naming the field, 404, 409) become the one-line CLI error.
        if (e instanceof HttpError)
          throw new CliError(e.message.replace(/^usd_per_spark/, "--usd-per-spark"));
        throw e;
      } finally {
        await ctx.close();
      }
    });
}
