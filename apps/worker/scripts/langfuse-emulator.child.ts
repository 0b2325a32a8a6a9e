import { createLangfuseEmulator, generateFlowiseTraffic } from "@sparks/emulators";

/**
 * The Langfuse emulator for `ingest-profile.ts`, in its own process so its CPU (serialising
 * pages) is not counted as the worker's. Seeds about `observations` observations of Flowise
 * traffic in [from, to) and reports its address and CPU time over IPC.
 */
interface ChildSpec {
  observations: number;
  customers: number;
  from: string;
  to: string;
}

const spec = JSON.parse(process.argv[2] ?? "{}") as ChildSpec;
const traffic = (traces: number) =>
  generateFlowiseTraffic({
    traces,
    customers: spec.customers,
    from: new Date(spec.from),
    to: new Date(spec.to),
    seed: 42,
    badShare: 0.02,
  });
const sample = traffic(1_000);
const perTrace = sample.reduce((n, r) => n + r.observations.length, 0) / sample.length;
const records = traffic(Math.max(1, Math.round(spec.observations / perTrace)));
const langfuse = await createLangfuseEmulator();
langfuse.store.addMany(records);
const observations = records.reduce((n, r) => n + r.observations.length, 0);

process.on("message", (raw) => {
  if (raw === "cpu") process.send?.({ cpu: process.cpuUsage() });
  if (raw === "stop") void langfuse.close().then(() => process.exit(0));
});
process.send?.({
  ready: { url: langfuse.url, publicKey: langfuse.publicKey, secretKey: langfuse.secretKey, observations },
});
