import type { AppConfig } from "@sparks/config";
import { CHECK_TIMEOUT_MS, type CheckResult, errorText, fail, ok, skip } from "./doctor-check";

/** What Sparks' webhook handler acts on; an endpoint must send at least these. */
export const REQUIRED_WEBHOOK_EVENTS = [
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.created",
  "invoice.paid",
  "invoice.payment_failed",
] as const;

const IDS = ["stripe.key", "stripe.catalog", "stripe.webhook", "stripe.anchors"] as const;

/** Strips trailing zeros so `0.10` and `0.1` compare equal (Stripe returns decimals as it likes). */
function decimalText(value: unknown): string {
  const text = String(value ?? "");
  return text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text;
}

/**
 * Key mode and validity, then (read-only) the catalog `sparks stripe:setup` creates, the
 * webhook endpoint, and the subscriptions' billing anchors.
 */
export async function checkStripe(config: AppConfig): Promise<CheckResult[]> {
  const s = config.stripe;
  if (!s.secretKey) {
    return [
      fail(
        "stripe.key",
        "STRIPE_SECRET_KEY is not set",
        "set STRIPE_SECRET_KEY=sk_live_… (or sk_test_… to try)",
      ),
      ...IDS.slice(1).map((id) => skip(id, "not checked", "needs a Stripe key")),
    ];
  }
  const { createStripeClient, centsPerSpark, meterEventName, priceLookupKey, StripeSubscriptionService } =
    await import("@sparks/stripe");
  const { TIER_NAMES, USAGE_CATEGORIES } = await import("@sparks/core");
  const stripe = createStripeClient({
    secretKey: s.secretKey,
    apiBase: s.apiBase,
    timeoutMs: CHECK_TIMEOUT_MS,
  });
  const mode = `${s.secretKey.startsWith("rk_") ? "restricted " : ""}${s.livemode ? "live" : "test"} mode`;
  const where = s.apiBase ? ` at ${s.apiBase.protocol}://${s.apiBase.host}:${s.apiBase.port}` : "";
  const results: CheckResult[] = [];

  let meters: Awaited<ReturnType<typeof stripe.billing.meters.list>>["data"] = [];
  try {
    meters = (await stripe.billing.meters.list({ limit: 100 })).data;
    results.push(ok("stripe.key", `${mode} key accepted${where}`));
  } catch (e) {
    const status = (e as { statusCode?: number }).statusCode;
    results.push(
      fail(
        "stripe.key",
        status === 401
          ? `Stripe rejected the ${mode} key${where}`
          : `Stripe not reachable${where}: ${errorText(e)}`,
        status === 401
          ? "set STRIPE_SECRET_KEY to a valid secret key (Dashboard → Developers → API keys)"
          : "check the network (or STRIPE_API_BASE) and retry",
      ),
    );
    return [...results, ...IDS.slice(1).map((id) => skip(id, "not checked", "needs a working Stripe key"))];
  }

  // Catalog: a meter per category, a metered price per category and tier at the config's rate.
  const problems: string[] = [];
  const paid = centsPerSpark(config.billing.sparkRateUsd);
  try {
    const lookupKeys = USAGE_CATEGORIES.flatMap((c) =>
      TIER_NAMES.map((t) => priceLookupKey(s.meterPrefix, c, t)),
    );
    const prices = new Map<string, Awaited<ReturnType<typeof stripe.prices.list>>["data"][number]>();
    for (let i = 0; i < lookupKeys.length; i += 10) {
      const page = await stripe.prices.list({
        lookup_keys: lookupKeys.slice(i, i + 10),
        active: true,
        limit: 100,
      });
      for (const p of page.data) if (p.lookup_key) prices.set(p.lookup_key, p);
    }
    const products = new Set<string>();
    for (const category of USAGE_CATEGORIES) {
      const eventName = meterEventName(s.meterPrefix, category);
      const meter = meters.find((m) => m.event_name === eventName && m.status === "active");
      if (!meter) {
        problems.push(`meter ${eventName} missing`);
        continue;
      }
      for (const tier of TIER_NAMES) {
        const key = priceLookupKey(s.meterPrefix, category, tier);
        const price = prices.get(key);
        if (!price) {
          problems.push(`price ${key} missing`);
          continue;
        }
        products.add(typeof price.product === "string" ? price.product : price.product.id);
        const expected = config.billing.tiers[tier].priced ? paid : "0";
        if (price.recurring?.meter !== meter.id) problems.push(`price ${key} is not on meter ${eventName}`);
        else if (decimalText(price.unit_amount_decimal) !== decimalText(expected)) {
          problems.push(
            `price ${key} is ${String(price.unit_amount_decimal)}¢/Spark, config says ${expected}`,
          );
        }
      }
    }
    results.push(
      problems.length === 0
        ? ok(
            "stripe.catalog",
            `${USAGE_CATEGORIES.length} meters, ${products.size} products, ${prices.size} prices match the config (${paid}¢ per Spark)`,
          )
        : fail(
            "stripe.catalog",
            `${problems.slice(0, 3).join("; ")}${problems.length > 3 ? `; and ${problems.length - 3} more` : ""}`,
            "run `pnpm sparks stripe:setup` (idempotent: creates what is missing, replaces prices at the config's rate)",
          ),
    );
  } catch (e) {
    results.push(
      fail(
        "stripe.catalog",
        `could not read the catalog: ${errorText(e)}`,
        "retry; check the key's permissions (read prices, meters)",
      ),
    );
  }

  // Webhook endpoint at this deployment, with every event type Sparks needs.
  try {
    const endpoints = (await stripe.webhookEndpoints.list({ limit: 100 })).data;
    const target = config.publicUrl ? `${config.publicUrl}/stripe/webhook` : null;
    const mine = target ? endpoints.filter((e) => e.url === target) : [];
    if (!target) {
      results.push(
        fail(
          "stripe.webhook",
          `SPARKS_PUBLIC_URL is not set, so the endpoint cannot be matched (${endpoints.length} endpoint(s) registered)`,
          "set SPARKS_PUBLIC_URL to this deployment's public address, e.g. https://sparks.example.com",
        ),
      );
    } else if (mine.length === 0) {
      results.push(
        fail(
          "stripe.webhook",
          `no webhook endpoint for ${target} (${endpoints.length} other endpoint(s))`,
          `add an endpoint for ${target} with events ${REQUIRED_WEBHOOK_EVENTS.join(", ")} (Dashboard → Developers → Webhooks), and put its signing secret in STRIPE_WEBHOOK_SECRET`,
        ),
      );
    } else {
      const enabled = mine.filter((e) => e.status === "enabled");
      const events = new Set(enabled.flatMap((e) => e.enabled_events));
      const missing = events.has("*") ? [] : REQUIRED_WEBHOOK_EVENTS.filter((t) => !events.has(t));
      if (enabled.length === 0) {
        results.push(
          fail("stripe.webhook", `the endpoint for ${target} is disabled`, "enable it in the Dashboard"),
        );
      } else if (missing.length > 0) {
        results.push(
          fail(
            "stripe.webhook",
            `endpoint ${target} lacks ${missing.join(", ")}`,
            `add the event types ${missing.join(", ")} to the endpoint`,
          ),
        );
      } else if (!s.webhookSecret) {
        results.push(
          fail(
            "stripe.webhook",
            `endpoint ${target} registered, but STRIPE_WEBHOOK_SECRET is not set`,
            "set STRIPE_WEBHOOK_SECRET to the endpoint's signing secret (whsec_…)",
          ),
        );
      } else {
        results.push(
          ok(
            "stripe.webhook",
            `endpoint ${target} registered for the ${REQUIRED_WEBHOOK_EVENTS.length} needed event types`,
          ),
        );
      }
    }
  } catch (e) {
    results.push(
      fail(
        "stripe.webhook",
        `could not list webhook endpoints: ${errorText(e)}`,
        "retry; check the key may read webhook endpoints",
      ),
    );
  }

  // Subscriptions anchored to the 1st 00:00 UTC: otherwise an invoice period is not a month.
  try {
    const anchors = await new StripeSubscriptionService(stripe, s.meterPrefix).anchors();
    const misaligned = anchors.filter((a) => !a.aligned);
    results.push(
      misaligned.length === 0
        ? ok("stripe.anchors", `${anchors.length} subscription(s), all anchored to the 1st 00:00 UTC`)
        : fail(
            "stripe.anchors",
            `${misaligned.length} of ${anchors.length} subscription(s) not anchored to the 1st 00:00 UTC (e.g. ${misaligned[0]?.id})`,
            "`pnpm sparks stripe:anchors` lists them; run `pnpm sparks stripe:anchors --fix` at 00:00 UTC on the 1st",
          ),
    );
  } catch (e) {
    results.push(
      fail(
        "stripe.anchors",
        `could not list subscriptions: ${errorText(e)}`,
        "retry; check the key may read subscriptions",
      ),
    );
  }
  return results;
}
