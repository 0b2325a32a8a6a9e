import type { BenchSizes, FigureReport } from "../bench.types";
import { BenchEnvironment } from "../bench-environment";
import type { LangfuseStatsView, MeterCallsView } from "../hosts/emulator-host.types";
import { emulatorSpec, fmt, steadyRate } from "./scenario.util";

/**
 * Ingest (v2, Langfuse emulator → ledger) timed on its own, with no push worker running; then
 * the push of everything it produced, 1:1, with no budget, the Stripe emulator answering each
 * meter event after 20 ms. Both in worker child processes; the emulators in theirs.
 */
export async function runIngestAndPush(sizes: BenchSizes, withPush: boolean): Promise<FigureReport> {
  const env = await BenchEnvironment.create(
    emulatorSpec(sizes, sizes.ingestObservations, { latencyMs: 20, rateLimitPerSecond: 0 }),
    { ledger: true },
  );
  try {
    const traffic = env.info.traffic;
    const syncWorker = await env.startWorker({ only: ["syncUsage"] });
    await env.emulators.request("resetLangfuseStats");
    const sync = await env.sync(env.window, sizes.timeoutMs);
    const lf = await env.emulators.request<LangfuseStatsView>("langfuseStats");
    const ingestRss = await syncWorker.peakRssMb();
    await syncWorker.stop();
    const observations = sync.counts.observations ?? 0;
    const ingestRate = observations / sync.seconds;
    const perThousand = (lf.requests * 1000) / Math.max(1, lf.observationsServed);
    const rows: FigureReport["rows"] = [
      {
        figure: "ingest",
        label: `ingest v2: observations/s (${fmt(observations)} observations)`,
        value: fmt(ingestRate),
        target: "≥ 20,000",
        met: ingestRate >= 20_000,
      },
      {
        figure: "langfuse-requests",
        label: "Langfuse requests per 1,000 observations, v2",
        value: fmt(perThousand, 2),
        target: "≤ 1.1",
        met: perThousand <= 1.1,
      },
    ];
    const details: Record<string, unknown> = {
      traffic,
      sync: { ...sync, observationsPerSecond: ingestRate, workerPeakRssMb: ingestRss },
      langfuseV2: lf,
    };
    if (withPush) {
      const items = await env.countRows(`select count(*) as n from usage_items where status = 'pending'`);
      const started = performance.now();
      const pushers = [];
      for (let i = 0; i < sizes.pushProcesses; i++) {
        pushers.push(
          await env.startWorker({
            only: ["pushMeterEvents"],
            pipeline: { pushConcurrency: sizes.pushConcurrency },
            maxConnections: Math.min(40, sizes.pushConcurrency),
          }),
        );
      }
      await env.drained(sizes.timeoutMs);
      const wallSeconds = (performance.now() - started) / 1000;
      const calls = await env.emulators.request<MeterCallsView>("meterCalls");
      const rate = steadyRate(calls.acceptedAt);
      // Σ call time / wall time = how many Stripe calls were in flight on average.
      const callMs = await env.countRows(`select coalesce(sum(duration_ms), 0) as n from stripe_audit_log`);
      for (const p of pushers) await p.stop();
      rows.push({
        figure: "push",
        label: `push: 1:1 meter events/s, no budget, 20 ms emulator (${fmt(calls.acceptedAt.length)} events)`,
        value: fmt(rate),
        target: "≥ 3,000",
        met: rate >= 3_000,
      });
      details.push = {
        pendingItems: items,
        accepted: calls.acceptedAt.length,
        rateLimited: calls.rateLimited,
        otherErrors: calls.otherErrors,
        eventsPerSecond: rate,
        wallSeconds,
        wallEventsPerSecond: calls.acceptedAt.length / wallSeconds,
        meanStripeCallMs: callMs / Math.max(1, calls.acceptedAt.length),
        meanCallsInFlight: callMs / 1000 / wallSeconds,
        pushConcurrency: sizes.pushConcurrency,
        pushProcesses: sizes.pushProcesses,
      };
    }
    return { rows, details };
  } finally {
    await env.close();
  }
}
