import type { BenchSizes, FigureReport } from "../bench.types";
import { BenchEnvironment } from "../bench-environment";
import type { LangfuseStatsView } from "../hosts/emulator-host.types";
import { emulatorSpec, fmt } from "./scenario.util";

/** An older self-hosted Langfuse (no v2 route): Sparks reads traces + observations (100 a page). */
export async function runLangfuseV1(sizes: BenchSizes): Promise<FigureReport> {
  const env = await BenchEnvironment.create(
    emulatorSpec(sizes, sizes.v1Observations, { latencyMs: 0, rateLimitPerSecond: 0 }, { v1Only: true }),
    { ledger: true, workerNodeFlags: sizes.workerNodeFlags },
  );
  try {
    const worker = await env.startWorker({ only: ["syncUsage"], env: { LANGFUSE_API: "v1" } });
    await env.emulators.request("resetLangfuseStats");
    const sync = await env.sync(env.window, sizes.timeoutMs);
    const lf = await env.emulators.request<LangfuseStatsView>("langfuseStats");
    await worker.stop();
    const perThousand = (lf.requests * 1000) / Math.max(1, lf.observationsServed);
    const traces = env.info.traffic.traces;
    // What the reader stages: observations plus one pseudo-row per trace (both are read, 100 a page).
    const perThousandRows = (lf.requests * 1000) / Math.max(1, lf.observationsServed + traces);
    return {
      rows: [
        {
          figure: "langfuse-requests",
          label: `Langfuse requests per 1,000 observations, v1 (per 1,000 rows read: ${fmt(perThousandRows, 2)})`,
          value: fmt(perThousand, 2),
          target: "≤ 11",
          met: perThousand <= 11,
        },
      ],
      details: {
        traffic: env.info.traffic,
        sync: { ...sync, observationsPerSecond: (sync.counts.observations ?? 0) / sync.seconds },
        langfuseV1: lf,
        requestsPerThousandObservations: perThousand,
        requestsPerThousandRows: perThousandRows,
      },
    };
  } finally {
    await env.close();
  }
}
