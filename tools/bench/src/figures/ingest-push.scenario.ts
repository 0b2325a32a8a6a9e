import type { BenchSizes, FigureReport } from "../bench.types";
import { BenchEnvironment, BenchTimeoutError, cpuSeconds, firstAccepted, sleep } from "../bench-environment";
import type { LangfuseStatsView, MeterCallsView, StreamEventsView } from "../hosts/emulator-host.types";
import { emulatorSpec, fmt, steadyRate } from "./scenario.util";

/**
 * Ingest (v2, Langfuse emulator → ledger) timed on its own, with no push worker running; then
 * the push of everything it produced, 1:1, with no budget, the Stripe emulator answering each
 * meter event after 20 ms. Both in worker child processes; the emulators in theirs.
 */
export async function runIngestAndPush(sizes: BenchSizes, withPush: boolean): Promise<FigureReport> {
  const env = await BenchEnvironment.create(
    emulatorSpec(sizes, sizes.ingestObservations, { latencyMs: 20, rateLimitPerSecond: 0 }),
    { ledger: true, workerNodeFlags: sizes.workerNodeFlags },
  );
  try {
    const traffic = env.info.traffic;
    const syncWorker = await env.startWorker({ only: ["syncUsage"] });
    await env.emulators.request("resetLangfuseStats");
    const cpuBefore = await syncWorker.cpuSeconds();
    const sync = await env.sync(env.window, sizes.timeoutMs);
    const lf = await env.emulators.request<LangfuseStatsView>("langfuseStats");
    const ingestRss = await syncWorker.peakRssMb();
    const ingestCpu = (await syncWorker.cpuSeconds()) - cpuBefore;
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
      sync: {
        ...sync,
        observationsPerSecond: ingestRate,
        workerPeakRssMb: ingestRss,
        workerCpuSeconds: ingestCpu,
        workerCpuMicrosPerObservation: (ingestCpu * 1e6) / Math.max(1, observations),
      },
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
      const pushCpuBefore = await Promise.all(pushers.map((p) => p.cpuSeconds()));
      const emulatorCpuBefore = await cpuSeconds(env.emulators.pid);
      // Steady rate over a fixed window from the first accepted call (or until drained, if sooner):
      // the backlog of a 200k-observation ingest would take minutes to drain at a slow rate.
      const first = await firstAccepted(env);
      const windowEnd = first + sizes.pushSeconds * 1000;
      await Promise.race([env.drained(sizes.timeoutMs), sleep(Math.max(0, windowEnd - Date.now()))]);
      const pushCpuAfter = await Promise.all(pushers.map((p) => p.cpuSeconds()));
      const emulatorCpu = (await cpuSeconds(env.emulators.pid)) - emulatorCpuBefore;
      const pushCpu = pushCpuAfter.reduce((a, b, i) => a + b - (pushCpuBefore[i] ?? 0), 0);
      const wallSeconds = (performance.now() - started) / 1000;
      const calls = await env.emulators.request<MeterCallsView>("meterCalls");
      const inWindow = calls.acceptedAt.filter((t) => t < windowEnd);
      const rate = steadyRate(inWindow);
      // Σ call time / wall time = how many Stripe calls were in flight on average.
      const callMs = await env.countRows(`select coalesce(sum(duration_ms), 0) as n from stripe_audit_log`);
      await Promise.all(pushers.map((p) => p.host.abort()));
      rows.push({
        figure: "push",
        label: `push v1 (a call per event): 1:1 meter events/s, no budget, 20 ms emulator (${fmt(inWindow.length)} events)`,
        value: fmt(rate),
        target: "≥ 3,000",
        met: rate >= 3_000,
      });
      details.push = {
        pendingItems: items,
        accepted: calls.acceptedAt.length,
        acceptedInWindow: inWindow.length,
        windowSeconds: sizes.pushSeconds,
        rateLimited: calls.rateLimited,
        otherErrors: calls.otherErrors,
        eventsPerSecond: rate,
        wallSeconds,
        wallEventsPerSecond: calls.acceptedAt.length / wallSeconds,
        meanStripeCallMs: callMs / Math.max(1, calls.acceptedAt.length),
        meanCallsInFlight: callMs / 1000 / wallSeconds,
        workerCpuSeconds: pushCpu,
        workerCpuMsPerEvent: (pushCpu * 1000) / Math.max(1, calls.acceptedAt.length),
        emulatorCpuMsPerEvent: (emulatorCpu * 1000) / Math.max(1, calls.acceptedAt.length),
        pushConcurrency: sizes.pushConcurrency,
        pushProcesses: sizes.pushProcesses,
      };
    }
    if (withPush) {
      // The rest of the backlog through STRIPE_METER_API=v2: the same 1:1 events (own identifier
      // and value per item), 100 per stream call.
      const left = await env.countRows(`select count(*) as n from usage_items where status = 'pending'`);
      if (left > 0) {
        // The ended v1 workers held the groups' push jobs (active, now stalled until BullMQ's
        // stalled check): queue a fresh job per group with work, as the next sync's sweep would.
        await env.enqueuePushForPendingGroups();
        const pushers = [];
        for (let i = 0; i < sizes.pushProcesses; i++) {
          pushers.push(
            await env.startWorker({
              only: ["pushMeterEvents"],
              env: { STRIPE_METER_API: "v2" },
              pipeline: { pushConcurrency: sizes.pushConcurrency, pushBatch: 200 },
              maxConnections: Math.min(40, sizes.pushConcurrency),
            }),
          );
        }
        const cpuBefore = await Promise.all(pushers.map((p) => p.cpuSeconds()));
        const started = Date.now();
        let first: number | undefined;
        while (first === undefined && Date.now() - started < 60_000) {
          first = (await env.emulators.request<StreamEventsView>("streamEvents")).receivedAt[0];
          if (first === undefined) await sleep(50);
        }
        if (first === undefined) throw new BenchTimeoutError("no v2 stream event accepted within 60 s");
        const windowEnd = first + sizes.pushSeconds * 1000;
        await Promise.race([env.drained(sizes.timeoutMs), sleep(Math.max(0, windowEnd - Date.now()))]);
        const cpuAfter = await Promise.all(pushers.map((p) => p.cpuSeconds()));
        await Promise.all(pushers.map((p) => p.host.abort()));
        const view = await env.emulators.request<StreamEventsView>("streamEvents");
        const inWindow = view.receivedAt.filter((t) => t < windowEnd);
        const rate = steadyRate(inWindow);
        const cpu = cpuAfter.reduce((a, b, i) => a + b - (cpuBefore[i] ?? 0), 0);
        rows.push({
          figure: "push",
          label: `push v2 stream (100 events a call): 1:1 meter events/s, no budget, 20 ms emulator (${fmt(inWindow.length)} events)`,
          value: fmt(rate),
          target: "≥ 3,000",
          met: rate >= 3_000,
        });
        details.pushV2 = {
          pendingItems: left,
          acceptedInWindow: inWindow.length,
          eventsPerSecond: rate,
          streamCalls: view.calls,
          rateLimited: view.rateLimited,
          workerCpuMsPerEvent: (cpu * 1000) / Math.max(1, view.receivedAt.length),
        };
      }
    }
    return { rows, details };
  } finally {
    await env.close();
  }
}
