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
      const { createStripeClient, formatSetupReport, setupStripeCatalog, StripeSubscriptionService } =
        await import("@sparks/stripe");
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
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        return;
      }
      // Subscriptions created before Sparks anchored them to the 1st bill non-calendar periods.
      const anchors = await new StripeSubscriptionService(stripe, config.stripe.meterPrefix).anchors();
      const misaligned = anchors.filter((a) => !a.aligned).length;
      const anchorLine =
        misaligned === 0
          ? `anchors: all ${anchors.length} billing subscription(s) anchored to the 1st 00:00:00 UTC`
          : `anchors: ${misaligned} of ${anchors.length} subscription(s) NOT anchored to the 1st 00:00:00 UTC; list them with \`sparks stripe:anchors\`, realign with \`sparks stripe:anchors --fix\` at 00:00 UTC on the 1st`;
      process.stdout.write(`${formatSetupReport(result)}\n${anchorLine}\n`);
    });
}
