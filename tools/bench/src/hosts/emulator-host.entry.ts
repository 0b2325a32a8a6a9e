import {
  createLangfuseEmulator,
  createStripeEmulator,
  type GeneratedTraceRecord,
  generateFlowiseTraffic,
} from "@sparks/emulators";
import type {
  EmulatorHostInfo,
  EmulatorHostSpec,
  LangfuseStatsView,
  MeterCallsView,
  MeterTotalView,
  StreamEventsView,
  TrafficSpec,
} from "./emulator-host.types";
import { childArgument, serveIpc } from "./ipc.channel";

const METER_EVENTS_PATH = "/v1/billing/meter_events";
const SAMPLE_TRACES = 2_000;

function traffic(spec: TrafficSpec, traces: number): GeneratedTraceRecord[] {
  return generateFlowiseTraffic({
    traces,
    customers: spec.customers,
    from: spec.from,
    to: spec.to,
    seed: spec.seed,
    badShare: spec.badShare,
  });
}

const countObservations = (records: readonly GeneratedTraceRecord[]) =>
  records.reduce((n, r) => n + r.observations.length, 0);

/** Sizes the trace count so the traffic has about the requested number of observations. */
function sizedTraffic(spec: TrafficSpec): GeneratedTraceRecord[] {
  const sample = traffic(spec, SAMPLE_TRACES);
  const perTrace = countObservations(sample) / sample.length;
  return traffic(spec, Math.max(1, Math.round(spec.observations / perTrace)));
}

const spec = childArgument() as EmulatorHostSpec;
const started = performance.now();
const langfuse = await createLangfuseEmulator(
  spec.langfuse.v1Only ? { routes: { v2Observations: false } } : {},
);
const stripe = await createStripeEmulator({
  latencyMs: spec.stripe.latencyMs,
  rateLimitPerSecond: spec.stripe.rateLimitPerSecond,
});
const records = sizedTraffic(spec.traffic);
langfuse.store.addMany(records);
const info: EmulatorHostInfo = {
  langfuse: { url: langfuse.url, publicKey: langfuse.publicKey, secretKey: langfuse.secretKey },
  stripe: { url: stripe.url, host: stripe.host, port: stripe.port, secretKey: stripe.secretKey },
  traffic: {
    traces: records.length,
    observations: countObservations(records),
    seconds: (performance.now() - started) / 1000,
  },
};

serveIpc(
  {
    info: () => info,
    langfuseStats: (): LangfuseStatsView => ({
      requests: langfuse.stats.count(),
      byRoute: langfuse.stats.snapshot(),
      observationsServed: langfuse.stats.observationsServed,
    }),
    resetLangfuseStats: () => {
      langfuse.stats.reset();
      return null;
    },
    meterTotals: (): MeterTotalView[] =>
      stripe.recording
        .meterTotals()
        .map((t) => ({ customer: t.customer, eventName: t.eventName, value: t.value })),
    streamEvents: (): StreamEventsView => {
      const receivedAt: number[] = [];
      for (const e of stripe.recording.meterEvents())
        if (e.source === "v2_stream") receivedAt.push(e.receivedAt);
      receivedAt.sort((a, b) => a - b);
      const calls = stripe.recording.filter({ method: "POST", path: "/v2/billing/meter_event_stream" });
      return { receivedAt, calls: calls.length, rateLimited: calls.filter((c) => c.status === 429).length };
    },
    meterCalls: (): MeterCallsView => {
      const calls = stripe.recording.filter({ method: "POST", path: METER_EVENTS_PATH });
      const acceptedAt: number[] = [];
      let rateLimited = 0;
      let otherErrors = 0;
      for (const c of calls) {
        if (c.status === 200) acceptedAt.push(c.time);
        else if (c.status === 429) rateLimited++;
        else otherErrors++;
      }
      acceptedAt.sort((a, b) => a - b);
      return { acceptedAt, rateLimited, otherErrors };
    },
  },
  async () => {
    await Promise.allSettled([langfuse.close(), stripe.close()]);
  },
);
process.send?.({ ready: true });
