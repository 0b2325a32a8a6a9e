import { type BillingConfig, deriveUsage, monthOf, NANO_PER_SPARK, type TraceInput } from "@sparks/core";
import { pickBillingMetadata } from "@sparks/langfuse";
import type Stripe from "stripe";
import { z } from "zod";

/**
 * "What a team writes in an afternoon": page through Langfuse's v1 traces, fetch each trace's
 * observations, and create meter events one at a time with the `stripe` SDK. It reuses core's
 * `deriveUsage` for the SPEC rules (quarantine, conversion) and keeps a running exact total per
 * customer, meter and month so its Stripe totals equal Sparks' (floor of the exact Sparks);
 * what makes it slow is its I/O shape, not its arithmetic.
 */
export interface NaiveBaselineOptions {
  langfuse: { url: string; publicKey: string; secretKey: string };
  stripe: Stripe;
  window: { from: string; to: string };
  /** Customer reference (metadata customer_id / userId) → Stripe customer id. */
  stripeCustomers: ReadonlyMap<string, string>;
  billing: BillingConfig;
  meterPrefix: string;
}

export interface NaiveBaselineResult {
  traces: number;
  observations: number;
  langfuseRequests: number;
  meterEvents: number;
  seconds: number;
}

const tracesPage = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      timestamp: z.string(),
      userId: z.string().nullish(),
      metadata: z.unknown(),
    }),
  ),
  meta: z.object({ page: z.number(), totalPages: z.number() }),
});
const observationsPage = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      metadata: z.unknown(),
      usageDetails: z.record(z.string(), z.unknown()).nullish(),
    }),
  ),
  meta: z.object({ page: z.number(), totalPages: z.number() }),
});

export async function runNaiveBaseline(opts: NaiveBaselineOptions): Promise<NaiveBaselineResult> {
  const started = performance.now();
  const auth = `Basic ${Buffer.from(`${opts.langfuse.publicKey}:${opts.langfuse.secretKey}`).toString("base64")}`;
  let langfuseRequests = 0;
  const get = async (path: string, query: Record<string, string>): Promise<unknown> => {
    langfuseRequests++;
    const res = await fetch(`${opts.langfuse.url}${path}?${new URLSearchParams(query)}`, {
      headers: { authorization: auth },
    });
    if (!res.ok) throw new Error(`Langfuse ${path}: HTTP ${res.status}`);
    return res.json();
  };
  // Exact Sparks per customer|meter|month, so each event carries floor(new total) − floor(old).
  const exact = new Map<string, bigint>();
  const result: NaiveBaselineResult = {
    traces: 0,
    observations: 0,
    langfuseRequests: 0,
    meterEvents: 0,
    seconds: 0,
  };
  for (let page = 1; ; page++) {
    const traces = tracesPage.parse(
      await get("/api/public/traces", {
        page: String(page),
        limit: "100",
        fromTimestamp: opts.window.from,
        toTimestamp: opts.window.to,
      }),
    );
    for (const trace of traces.data) {
      result.traces++;
      const observations: TraceInput["observations"] = [];
      for (let p = 1; ; p++) {
        const obs = observationsPage.parse(
          await get("/api/public/observations", { traceId: trace.id, page: String(p), limit: "100" }),
        );
        for (const o of obs.data) {
          observations.push({
            id: o.id,
            type: o.type,
            metadata: pickBillingMetadata(o.metadata),
            usageDetails: o.usageDetails ?? null,
          });
        }
        if (p >= obs.meta.totalPages) break;
      }
      result.observations += observations.length;
      const timestamp = new Date(trace.timestamp);
      const derived = deriveUsage(
        {
          traceId: trace.id,
          timestamp,
          userId: trace.userId ?? null,
          metadata: pickBillingMetadata(trace.metadata),
          observations,
        },
        opts.billing,
      );
      const customer = derived.customerRef ? opts.stripeCustomers.get(derived.customerRef) : undefined;
      if (derived.traceProblem !== null || customer === undefined) continue;
      for (const item of derived.items) {
        const eventName = `${opts.meterPrefix}_${item.category}`;
        const key = `${customer}|${eventName}|${monthOf(timestamp)}`;
        const before = exact.get(key) ?? 0n;
        const after = before + item.nanoSparks;
        exact.set(key, after);
        const value = after / NANO_PER_SPARK - before / NANO_PER_SPARK;
        await opts.stripe.billing.meterEvents.create({
          event_name: eventName,
          payload: { stripe_customer_id: customer, value: value.toString() },
          identifier: `${item.category}-${trace.id}`,
          timestamp: Math.floor(timestamp.getTime() / 1000),
        });
        result.meterEvents++;
      }
    }
    if (page >= traces.meta.totalPages) break;
  }
  result.langfuseRequests = langfuseRequests;
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
