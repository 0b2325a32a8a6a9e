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

/**
 * The same traffic, the same emulators (Stripe answering after 20 ms, no rate limit): Sparks
 * (sync + push in one worker process, timed from the sync request until everything is sent)
 * against the naive baseline. Their Stripe totals per customer + meter must be equal.
 */
export async function runEndToEnd(sizes: BenchSizes): Promise<FigureReport> {
  const stripe = { latencyMs: 20, rateLimitPerSecond: 0 };
  const spec = emulatorSpec(sizes, sizes.e2eObservations, stripe);
  let sparksSeconds: number;
  let sparksTotals: Map<string, number>;
  let traffic: BenchEnvironment["info"]["traffic"];
  const sparksEnv = await BenchEnvironment.create(spec, {
    ledger: true,
    workerNodeFlags: sizes.workerNodeFlags,
  });
  try {
    traffic = sparksEnv.info.traffic;
    const worker = await sparksEnv.startWorker({
      only: ["syncUsage", "pushMeterEvents"],
      pipeline: { pushConcurrency: sizes.pushConcurrency },
      maxConnections: Math.min(40, sizes.pushConcurrency),
    });
    const started = performance.now();
    await sparksEnv.sync(sparksEnv.window, sizes.timeoutMs);
    await sparksEnv.drained(sizes.timeoutMs);
    sparksSeconds = (performance.now() - started) / 1000;
    await worker.stop();
    sparksTotals = await totalsByRef(sparksEnv);
  } finally {
    await sparksEnv.close();
  }
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
    const diffs = compareTotals(sparksTotals, naiveTotals);
    const speedup = naive.seconds / sparksSeconds;
    const sparksSum = [...sparksTotals.values()].reduce((a, b) => a + b, 0);
    return {
      rows: [
        {
          figure: "e2e",
          label: `end-to-end vs naive baseline (${fmt(traffic.observations)} observations; ${fmt(sparksSeconds, 1)} s vs ${fmt(naive.seconds, 1)} s), totals equal`,
          value: `${fmt(speedup, 1)}×, ${diffs.length === 0 ? "yes" : `NO (${diffs.length} differ)`}`,
          target: "≥ 20×, yes",
          met: speedup >= 20 && diffs.length === 0,
        },
      ],
      details: {
        traffic,
        sparksSeconds,
        naive,
        speedup,
        meters: sparksTotals.size,
        sparksTotalSparks: sparksSum,
        differences: diffs.slice(0, 20),
      },
      ...(diffs.length === 0 && sparksTotals.size > 0
        ? {}
        : {
            failures: [
              `Stripe totals of Sparks and the naive baseline differ: ${diffs.slice(0, 5).join("; ") || "no totals"}`,
            ],
          }),
    };
  } finally {
    await naiveEnv.close();
  }
}
