import { loadConfig } from "@sparks/config";
import { TIER_NAMES, type TierName } from "@sparks/core";
import type { Command } from "commander";
import { CliError } from "../cli-error";

export function registerStripeSetup(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("stripe:setup")
    .description("create or find the Stripe products, meters and metered prices (idempotent)")
    .option("--json", "print the result as JSON")
    .action(async (opts: { json?: boolean }) => {
      const config = loadConfig(env);
      if (!config.stripe.secretKey) throw new CliError("STRIPE_SECRET_KEY is required for stripe:setup");
      const { createStripeClient, formatSetupReport, setupStripeCatalog } = await import("@sparks/stripe");
      const stripe = createStripeClient({
        secretKey: config.stripe.secretKey,
        apiBase: config.stripe.apiBase,
      });
      const tierPriced = Object.fromEntries(
        TIER_NAMES.map((t) => [t, config.billing.tiers[t].priced]),
      ) as Record<TierName, boolean>;
      const result = await setupStripeCatalog(stripe, {
        prefix: config.stripe.meterPrefix,
        sparkRateUsd: config.billing.sparkRateUsd,
        tiers: TIER_NAMES,
        tierPriced,
      });
      process.stdout.write(
        opts.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatSetupReport(result)}\n`,
      );
    });
}
