import type { BenchSizes, FigureReport } from "../bench.types";
import { BenchEnvironment } from "../bench-environment";
import { emulatorSpec, fmt } from "./scenario.util";

/** A backfill (one sync over the whole window) in a worker child; its VmHWM when it is done. */
async function backfillPeak(sizes: BenchSizes, observations: number) {
  const env = await BenchEnvironment.create(
    emulatorSpec(sizes, observations, { latencyMs: 0, rateLimitPerSecond: 0 }),
    {
      ledger: true,
    },
  );
  try {
    const worker = await env.startWorker({ only: ["syncUsage"] });
    const idleMb = await worker.peakRssMb();
    const sync = await env.sync(env.window, sizes.timeoutMs);
    const peakMb = await worker.peakRssMb();
    await worker.stop();
    return {
      observations: sync.counts.observations ?? 0,
      peakMb,
      idleMb,
      seconds: sync.seconds,
      observationsPerSecond: (sync.counts.observations ?? 0) / sync.seconds,
    };
  } finally {
    await env.close();
  }
}

export async function runRss(sizes: BenchSizes): Promise<FigureReport> {
  const small = await backfillPeak(sizes, sizes.rssObservations.small);
  const large = await backfillPeak(sizes, sizes.rssObservations.large);
  const ratio = large.peakMb / small.peakMb;
  return {
    rows: [
      {
        figure: "rss",
        label: `worker peak RSS, backfill of ${fmt(large.observations)} observations (× the peak at ${fmt(small.observations)})`,
        value: `${fmt(large.peakMb)} MB (${fmt(ratio, 2)}×)`,
        target: "≤ 300 MB, ≤ 1.25×",
        met: large.peakMb <= 300 && ratio <= 1.25,
      },
    ],
    details: { small, large, ratio },
  };
}
