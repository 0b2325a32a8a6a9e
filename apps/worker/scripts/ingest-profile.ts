/**
 * Times `runSync` end to end (Langfuse emulator → staged observations → ledger) on real
 * Postgres + Redis, and says where the CPU went: this process (the worker), the emulator (a
 * child process, not counted as the worker's), and the Postgres backends of the run's database.
 * On a loaded shared machine wall time lies; CPU per observation does not.
 *
 *   pnpm --filter @sparks/worker exec tsx scripts/ingest-profile.ts [observations] [--read-only] [--runs n]
 *   --log-statements: every statement's duration in the Postgres server log (tagged with the db name)
 *   (add `node --cpu-prof` through NODE_OPTIONS to profile the worker side)
 */
import { fork } from "node:child_process";
import { readFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { loadConfig } from "@sparks/config";
import { closeAdvisoryLocks, createDatabase, customers, executeRows } from "@sparks/db";
import { QueueService } from "@sparks/queues";
import { createTestDatabase, createTestRedis } from "@sparks/testing";
import pino from "pino";
import { createWorkerDeps, runSync, type WorkerDeps } from "../src";

interface Ready {
  url: string;
  publicKey: string;
  secretKey: string;
  observations: number;
}

const HOUR = 3_600_000;
const args = process.argv.slice(2);
const observations = Number(args.find((a) => /^\d+$/.test(a)) ?? 200_000);
const readOnly = args.includes("--read-only");
const runsIndex = args.indexOf("--runs");
const runs = runsIndex >= 0 ? Number(args[runsIndex + 1]) : 1;
const customerCount = 300;
const to = Math.floor((Date.now() - HOUR) / 60_000) * 60_000;
const window = { from: new Date(to - 24 * HOUR).toISOString(), to: new Date(to).toISOString() };

const child = fork(
  new URL("./langfuse-emulator.child.ts", import.meta.url),
  [JSON.stringify({ observations, customers: customerCount, ...window })],
  { execArgv: ["--import", "tsx", "--max-old-space-size=8192"] },
);
const childMessage = <T>(key: string): Promise<T> =>
  new Promise((resolve) => {
    const on = (m: unknown) => {
      if (typeof m === "object" && m !== null && key in m) {
        child.off("message", on);
        resolve((m as Record<string, T>)[key] as T);
      }
    };
    child.on("message", on);
  });
const emulator = await childMessage<Ready>("ready");
const childCpu = async () => {
  const p = childMessage<NodeJS.CpuUsage>("cpu");
  child.send("cpu");
  return p;
};

const env = {
  LANGFUSE_PUBLIC_KEY: emulator.publicKey,
  LANGFUSE_SECRET_KEY: emulator.secretKey,
  LANGFUSE_BASEURL: emulator.url,
  LANGFUSE_API: "v2",
  LANGFUSE_LAG: "900",
  STRIPE_MAX_RPS: "1000",
  STRIPE_AGGREGATION: "off",
};
const config = loadConfig(env);
const logger = pino({ level: "warn" });
const database = await createTestDatabase({ maxConnections: 4 });
const redis = await createTestRedis();
const queues = new QueueService({ connection: redis.connection, prefix: redis.prefix });
await database.database.db.insert(customers).values(
  Array.from({ length: customerCount }, (_, i) => ({
    id: `cust_${String(i + 1).padStart(4, "0")}`,
    tier: "standard" as const,
  })),
);
if (args.includes("--log-statements")) {
  // Every statement's duration in the server log (its lines carry the database name); only
  // connections opened after this see it, hence the worker's own pool below.
  const name = new URL(database.url).pathname.slice(1);
  await executeRows(database.database.db, `alter database "${name}" set log_min_duration_statement = 0`);
  await executeRows(database.database.db, `alter database "${name}" set log_parameter_max_length = 0`);
  // And the plan of any statement slower than 20 ms.
  await executeRows(
    database.database.db,
    `alter database "${name}" set session_preload_libraries = 'auto_explain'`,
  );
  await executeRows(database.database.db, `alter database "${name}" set auto_explain.log_min_duration = 20`);
  await executeRows(database.database.db, `alter database "${name}" set auto_explain.log_analyze = on`);
  console.log(JSON.stringify({ logTag: name }));
}
// The worker's pool, sized as in production (createDatabase's default).
const workerDb = await createDatabase({ url: database.url });
const deps: WorkerDeps = createWorkerDeps({
  config,
  database: workerDb,
  connection: redis.connection,
  queues,
  logger,
});

/** utime + stime (ms) of every Postgres backend serving this run's database. */
async function postgresCpuMs(): Promise<number> {
  const name = new URL(database.url).pathname.slice(1);
  const pids = await executeRows<{ pid: number }>(
    workerDb.db,
    `select pid from pg_stat_activity where datname = '${name}'`,
  );
  let ticks = 0;
  for (const { pid } of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }
  return ticks * 10;
}

const ms = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
for (let run = 1; run <= runs; run++) {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
  const pg0 = await postgresCpuMs();
  const emu0 = ms(await childCpu());
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let seen = 0;
  if (readOnly) {
    const reader = deps.langfuse;
    if (!reader) throw new Error("no reader");
    for await (const page of reader.readWindow({ from: new Date(window.from), to: new Date(window.to) }))
      seen += page.length;
  } else {
    const syncId = `profile_${run}`;
    await executeRows(
      database.database.db,
      `insert into sync_runs (id, trigger) values ('${syncId}', 'manual')`,
    );
    const result = await runSync(deps, { syncId, ...window, customerId: null, trigger: "manual" });
    seen = result.counts.observations;
  }
  const seconds = (performance.now() - started) / 1000;
  const worker = ms(process.cpuUsage(cpu0));
  const emu = ms(await childCpu()) - emu0;
  const pg = (await postgresCpuMs()) - pg0;
  const perObs = (v: number) => ((v * 1000) / Math.max(1, seen)).toFixed(1);
  console.log(
    JSON.stringify({
      run,
      mode: readOnly ? "read-only" : "runSync",
      observations: seen,
      seconds: Number(seconds.toFixed(2)),
      observationsPerSecond: Math.round(seen / seconds),
      cpuMicrosPerObservation: { worker: perObs(worker), emulator: perObs(emu), postgres: perObs(pg) },
      loadAverageBefore: load,
      loadAverageAfter: loadavg()
        .map((l) => l.toFixed(2))
        .join(" "),
    }),
  );
}
if (!readOnly) {
  const sizes = await executeRows<Record<string, unknown>>(
    database.database.db,
    `select (select count(*) from observation_usage) as staged, (select count(*) from usage_items) as items,
            pg_size_pretty(pg_total_relation_size('observation_usage')) as staging_size`,
  );
  console.log(JSON.stringify(sizes[0]));
}
child.send("stop");
await closeAdvisoryLocks(workerDb);
await workerDb.close();
await queues.close();
await redis.cleanup();
await database.drop();
