import { DEFAULT_BILLING_CONFIG } from "@sparks/core";
import type { BenchSizes, FigureReport } from "../bench.types";
import { BenchEnvironment } from "../bench-environment";
import type { MeterTotalView } from "../hosts/emulator-host.types";
import { runNaiveBaseline } from "../naive-baseline/naive-baseline";
import { emulatorSpec, fmt } from "./scenario.util";

/** Stripe totals keyed `${customer ref}|${event name}`, whatever ids this emulator gave them. */
async function totalsByRef(env: BenchEnvironment): Promise<Map<string, number>> {
  const refOf = new Map([...env.stripeIds].map(([ref, id]) => [id, ref]));
  const totals = await env.emulators.request<MeterTotalView[]>("meterTotals");
  return new Map(totals.map((t) => [`${refOf.get(t.customer) ?? t.customer}|${t.eventName}`, t.value]));
}

export function compareTotals(sparks: Map<string, number>, naive: Map<string, number>): string[] {
  const keys = new Set([...sparks.keys(), ...naive.keys()]);
  const diffs: string[] = [];
  for (const key of [...keys].sort()) {
    const a = sparks.get(key) ?? 0;
    const b = naive.get(key) ?? 0;
    if (a !== b) diffs.push(`${key}: Sparks ${a}, naive ${b}`);
  }
  return diffs;
}

/** Sparks alone on fresh emulators: sync + push in one worker process, until nothing is pending. */
async function runSparks(
  sizes: BenchSizes,
  spec: ReturnType<typeof emulatorSpec>,
  meterApi: "v1" | "v2",
): Promise<{ seconds: number; totals: Map<string, number>; traffic: BenchEnvironment["info"]["traffic"] }> {
  const env = await BenchEnvironment.create(spec, { ledger: true, workerNodeFlags: sizes.workerNodeFlags });
  try {
    const worker = await env.startWorker({
      only: ["syncUsage", "pushMeterEvents"],
      env: { STRIPE_METER_API: meterApi },
      pipeline: { pushConcurrency: sizes.pushConcurrency },
      maxConnections: Math.min(40, sizes.pushConcurrency),
    });
    const started = performance.now();
    await env.sync(env.window, sizes.timeoutMs);
    await env.drained(sizes.timeoutMs);
    const seconds = (performance.now() - started) / 1000;
    await worker.stop();
    return { seconds, totals: await totalsByRef(env), traffic: env.info.traffic };
  } finally {
    await env.close();
  }
}

/**
 * The same traffic, the same emulators (Stripe answering after 20 ms, no rate limit): Sparks
 * (sync + push in one worker process, timed from the sync request until everything is sent),
 * with v1 meter events (the default) and with the v2 stream, against the naive baseline. Their
 * Stripe totals per customer + meter must be equal.
 */
export async function runEndToEnd(sizes: BenchSizes): Promise<FigureReport> {
  const stripe = { latencyMs: 20, rateLimitPerSecond: 0 };
  const spec = emulatorSpec(sizes, sizes.e2eObservations, stripe);
  const runs = { v1: await runSparks(sizes, spec, "v1"), v2: await runSparks(sizes, spec, "v2") };
  const naiveEnv = await BenchEnvironment.create(spec, { ledger: false });
  try {
    const naive = await runNaiveBaseline({
      langfuse: naiveEnv.info.langfuse,
      stripe: naiveEnv.stripe,
      window: naiveEnv.window,
      stripeCustomers: naiveEnv.stripeIds,
      billing: DEFAULT_BILLING_CONFIG,
      meterPrefix: "sparks",
    });
    const naiveTotals = await totalsByRef(naiveEnv);
    const rows: FigureReport["rows"] = [];
    const details: Record<string, unknown> = { naive };
    const failures: string[] = [];
    for (const api of ["v1", "v2"] as const) {
      const run = runs[api];
      const diffs = compareTotals(run.totals, naiveTotals);
      const speedup = naive.seconds / run.seconds;
      rows.push({
        figure: "e2e",
        label: `end-to-end vs naive baseline, Sparks with ${api === "v1" ? "v1 meter events" : "the v2 stream"} (${fmt(run.traffic.observations)} observations; ${fmt(run.seconds, 1)} s vs ${fmt(naive.seconds, 1)} s), totals equal`,
        value: `${fmt(speedup, 1)}×, ${diffs.length === 0 ? "yes" : `NO (${diffs.length} differ)`}`,
        target: "≥ 20×, yes",
        met: speedup >= 20 && diffs.length === 0,
      });
      details[api] = {
        traffic: run.traffic,
        sparksSeconds: run.seconds,
        speedup,
        meters: run.totals.size,
        sparksTotalSparks: [...run.totals.values()].reduce((a, b) => a + b, 0),
        differences: diffs.slice(0, 20),
      };
      if (diffs.length > 0 || run.totals.size === 0) {
        failures.push(
          `Stripe totals of Sparks (${api}) and the naive baseline differ: ${diffs.slice(0, 5).join("; ") || "no totals"}`,
        );
      }
    }
    return { rows, details, ...(failures.length === 0 ? {} : { failures }) };
  } finally {
    await naiveEnv.close();
  }
}
