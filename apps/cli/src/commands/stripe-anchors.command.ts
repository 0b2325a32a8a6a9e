import { loadConfig } from "@sparks/config";
import type { Command } from "commander";
import { CliError } from "../cli-error";

/** How long after 00:00:00 UTC on the 1st `--fix` runs without `--force` (see docs/stripe-billing.md). */
const FIX_WINDOW_SECONDS = 600;

interface AnchorsOptions {
  fix?: boolean;
  force?: boolean;
  json?: boolean;
}

/**
 * `sparks stripe:anchors [--fix] [--force] [--json]`: lists the subscriptions that still bill
 * and whether each is anchored to the 1st of the month, 00:00:00 UTC. `--fix` resets each
 * misaligned one with `billing_cycle_anchor[type]=now` — Stripe's only way to move an existing
 * subscription's anchor — which anchors at the moment of the call, so it refuses to run
 * outside the first minutes of a month unless `--force`. Exit 1 while any is misaligned.
 */
export function registerStripeAnchors(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("stripe:anchors")
    .description(
      "list subscriptions not anchored to the 1st 00:00 UTC; --fix realigns them (run at 00:00 UTC on the 1st)",
    )
    .option("--fix", "reset each misaligned subscription's anchor to now (billing_cycle_anchor[type]=now)")
    .option("--force", "with --fix: run even outside the first 10 minutes of a month")
    .option("--json", "print the result as JSON")
    .action(async (opts: AnchorsOptions) => {
      const config = loadConfig(env);
      if (!config.stripe.secretKey) throw new CliError("STRIPE_SECRET_KEY is required for stripe:anchors");
      const { createStripeClient, idempotencyKey, StripeSubscriptionService } = await import(
        "@sparks/stripe"
      );
      const stripe = createStripeClient({
        secretKey: config.stripe.secretKey,
        apiBase: config.stripe.apiBase,
      });
      const service = new StripeSubscriptionService(stripe, config.stripe.meterPrefix);
      const all = await service.anchors();
      const misaligned = all.filter((a) => !a.aligned);
      const fixed: typeof all = [];
      if (opts.fix === true && misaligned.length > 0) {
        const now = new Date();
        const sinceMonthStart = (now.getTime() - Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)) / 1000;
        if (sinceMonthStart > FIX_WINDOW_SECONDS && opts.force !== true) {
          throw new CliError(
            `--fix anchors at the moment it runs (Stripe's billing_cycle_anchor=now); run it at 00:00 UTC on the 1st, or add --force to anchor ${misaligned.length} subscription(s) at ${now.toISOString()}`,
          );
        }
        for (const a of misaligned) {
          fixed.push(
            await service.resetAnchorNow(
              a.id,
              idempotencyKey("anchor-now", a.id, now.toISOString().slice(0, 13)),
            ),
          );
        }
      }
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify({ subscriptions: all, misaligned, fixed }, null, 2)}\n`);
      } else {
        const lines = [
          `${all.length} subscription(s) billing; ${misaligned.length} not anchored to the 1st 00:00:00 UTC`,
        ];
        for (const a of misaligned) {
          lines.push(
            `  ✗ ${a.id} customer ${a.customerId}${a.sparksCustomerId === null ? "" : ` (${a.sparksCustomerId})`} anchor ${a.anchor}, period ends ${a.currentPeriodEnd ?? "?"}, ${a.billingMode}`,
          );
        }
        for (const a of fixed) lines.push(`  → ${a.id} re-anchored at ${a.anchor}`);
        if (misaligned.length > 0 && opts.fix !== true) {
          lines.push(
            "Realign: `sparks stripe:anchors --fix` at 00:00 UTC on the 1st (Stripe invoices the current period then and anchors the cycle at that moment); see docs/stripe-billing.md.",
          );
        }
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      // Like `doctor`: a misaligned subscription is a ✗ (non-zero) until it is fixed.
      if (misaligned.length > 0 && opts.fix !== true)
        throw new CliError(`${misaligned.length} subscription(s) not anchored to the 1st 00:00:00 UTC`);
    });
}
