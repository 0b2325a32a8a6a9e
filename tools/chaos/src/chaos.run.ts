import { executeRows } from "@sparks/db";
import { generateFlowiseTraffic, SeededRandom } from "@sparks/emulators";
import { jobCatalog } from "@sparks/queues";
import { Worker } from "bullmq";
import { type ChaosVerdict, verifyChaos } from "./chaos.verify";
import { type ChaosEnvironment, createChaosEnvironment } from "./chaos-environment";
import { type ChaosPlan, LANGFUSE_FAULTS, STRIPE_FAULT_KINDS, STRIPE_FAULT_RATE } from "./chaos-plan";
import { expectedUsage } from "./expected-usage";

import { ServiceRestarter } from "./service-restarter";
import { WorkerFleet } from "./worker-fleet";

const HOUR = 3_600_000;

type ChaosEvent = { at: number; kind: "kill" | "redis" | "postgres" };

export interface ChaosRunResult {
  verdict: ChaosVerdict;
  durationMs: number;
}

/**
 * The chaos run: a backfill through worker processes that are SIGKILLed at random points,
 * with Redis (no persistence) and Postgres restarted once each in the full run and both
 * emulators failing at the issue's rates throughout. Then syncs until the ledger is drained,
 * and a comparison of what Stripe accepted with the exact totals computed from the traffic.
 */
export async function runChaos(plan: ChaosPlan, log: (line: string) => void): Promise<ChaosRunResult> {
  const started = Date.now();
  const env = await createChaosEnvironment(plan.customers);
  const fleet = new WorkerFleet({
    databaseUrl: env.database.url,
    redisUrl: env.redis.url,
    prefix: env.redis.prefix,
    env: env.env,
    stripeTimeoutMs: plan.stripeTimeoutMs,
  });
  const checkers: Worker[] = [];
  try {
    const now = Date.now();
    const window = { from: new Date(now - 7 * HOUR), to: new Date(now - HOUR / 2) };
    const records = generateFlowiseTraffic({
      traces: plan.traces,
      customers: env.customers.map((c) => c.ref),
      from: new Date(now - 6 * HOUR),
      to: new Date(now - HOUR),
      seed: plan.seed,
      badShare: 0.01,
    });
    env.langfuse.store.addMany(records);
    const totalObservations = env.langfuse.store.observationCount;
    const expected = expectedUsage(records, env.customers);
    log(
      `chaos[${plan.name}] (redis prefix ${env.redis.prefix}, db ${env.database.url}): ${records.length} traces, ${totalObservations} observations, ${expected.identifiers.size} billable items, ${plan.customers} customers`,
    );
    env.langfuse.faults.setRandomFailures({ ...LANGFUSE_FAULTS, seed: plan.seed });
    env.stripe.faults.randomly({
      rate: STRIPE_FAULT_RATE,
      seed: plan.seed,
      path: "/v1/billing/meter_events",
      kinds: STRIPE_FAULT_KINDS,
      hangMs: plan.stripeTimeoutMs + 1_500,
    });

    for (let i = 0; i < plan.workers; i++) await fleet.start();
    checkers.push(...startStalledCheckers(env));

    const events = schedule(plan);
    const progress = () =>
      0.5 * Math.min(1, env.langfuse.stats.observationsServed / totalObservations) +
      0.5 * Math.min(1, env.stripe.recording.meterEvents().length / expected.identifiers.size);
    let syncs = 0;
    const requestSync = async () => {
      const syncId = `sync_chaos_${++syncs}`;
      await env.queues.add(
        "syncUsage",
        { syncId, from: window.from.toISOString(), to: window.to.toISOString(), trigger: "backfill" },
        { jobId: syncId },
      );
      return syncId;
    };
    await requestSync();
    const restarter = new ServiceRestarter();
    let pendingAtRedisWipe: number | null = null;
    let lastProgress = -1;
    let lastMove = Date.now();
    while (events.length > 0) {
      await sleep(100);
      overDeadline(plan, started);
      const p = progress();
      if (p > lastProgress) {
        lastProgress = p;
        lastMove = Date.now();
      }
      const next = events[0];
      if (!next) break;
      // Past the end of the work (or stuck): the rest of the faults fire now.
      if (p >= next.at || p >= 0.999 || Date.now() - lastMove > 20_000) {
        events.shift();
        if (next.kind === "kill") {
          await fleet.killOneAndReplace();
          log(`  SIGKILL #${fleet.kills} at ${(p * 100).toFixed(1)}%`);
        } else if (next.kind === "redis") {
          pendingAtRedisWipe = await unsentItems(env);
          await restarter.restartRedis();
          log(
            `  Redis restarted without persistence at ${(p * 100).toFixed(1)}% (${pendingAtRedisWipe} items unsent in Postgres, every queue gone)`,
          );
          await requestSync();
        } else {
          await restarter.restartPostgres();
          log(`  Postgres restarted at ${(p * 100).toFixed(1)}%`);
        }
        lastMove = Date.now();
      }
    }

    // Heal: syncs until the ledger holds nothing unsent (each sync's sweep re-queues the work
    // Redis may have lost). Faults stay on: the emulators keep failing at the same rates.
    let healed = false;
    for (let round = 0; round < 6 && !healed; round++) {
      const syncId = await requestSync();
      const synced = await waitUntil(
        plan,
        started,
        async () => (await syncStatus(env, syncId)) === "completed",
        plan.deadlineMs / 4,
      );
      healed = synced && (await waitUntil(plan, started, () => drained(env), plan.deadlineMs / 4));
      log(`  heal sync ${syncId}: ${healed ? "drained" : `not drained yet (${await describeState(env)})`}`);
    }
    await fleet.stopAll();
    const verdict = await verifyChaos({
      plan,
      env,
      expected,
      fleet,
      syncs,
      pendingAtRedisWipe,
      healed,
    });
    return { verdict, durationMs: Date.now() - started };
  } finally {
    await fleet.stopAll();
    for (const c of checkers) await c.close().catch(() => undefined);
    await env.close();
  }
}

/** Kill points spread at seeded random progress; the restarts inside the busiest stretch. */
function schedule(plan: ChaosPlan): ChaosEvent[] {
  const rng = new SeededRandom(plan.seed);
  const events: ChaosEvent[] = [];
  for (let i = 0; i < plan.kills; i++) events.push({ at: 0.03 + rng.next() * 0.85, kind: "kill" });
  if (plan.restartPostgres) events.push({ at: 0.3 + rng.next() * 0.1, kind: "postgres" });
  if (plan.restartRedis) events.push({ at: 0.55 + rng.next() * 0.15, kind: "redis" });
  return events.sort((a, b) => a.at - b.at);
}

/**
 * BullMQ notices a dead worker's jobs at its stalled check (every 30 s by default); a checker
 * at 1 s stands in for it so the run is not mostly waiting.
 */
function startStalledCheckers(env: ChaosEnvironment): Worker[] {
  return (["pushMeterEvents", "syncUsage"] as const).map((name) => {
    const checker = new Worker(jobCatalog[name].queue, null, {
      connection: env.redis.connection,
      prefix: env.redis.prefix,
      autorun: false,
      stalledInterval: 1_000,
    });
    checker.on("error", () => undefined);
    void checker.startStalledCheckTimer();
    return checker;
  });
}

/** Where things stand, for the log when a heal round did not finish. */
async function describeState(env: ChaosEnvironment): Promise<string> {
  const runs = await executeRows<{ id: string; status: string }>(
    env.database.database.db,
    "select id, status from sync_runs order by started_at nulls last",
  ).catch(() => []);
  const items = await executeRows<{ status: string; n: unknown }>(
    env.database.database.db,
    "select status, count(*) as n from usage_items group by status",
  ).catch(() => []);
  const jobs = await Promise.all(
    (["syncUsage", "pushMeterEvents"] as const).map(async (name) => {
      const counts = await env.queues
        .queue(name)
        .getJobCounts()
        .catch(() => ({}));
      return `${name} ${JSON.stringify(counts)}`;
    }),
  );
  return [
    `syncs ${runs.map((r) => `${r.id}=${r.status}`).join(" ")}`,
    `items ${items.map((r) => `${r.status}=${Number(r.n)}`).join(" ")}`,
    ...jobs,
  ].join("; ");
}

async function unsentItems(env: ChaosEnvironment): Promise<number> {
  const rows = await executeRows<{ n: unknown }>(
    env.database.database.db,
    `select count(*) as n from usage_items where status in ('pending', 'sending')`,
  );
  return Number(rows[0]?.n ?? 0);
}

async function syncStatus(env: ChaosEnvironment, syncId: string): Promise<string | null> {
  const rows = await executeRows<{ status: unknown }>(
    env.database.database.db,
    `select status from sync_runs where id = '${syncId}'`,
  );
  return rows[0] ? String(rows[0].status) : null;
}

async function drained(env: ChaosEnvironment): Promise<boolean> {
  if ((await unsentItems(env)) > 0) return false;
  const counts = await env.queues
    .queue("pushMeterEvents")
    .getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children");
  return Object.values(counts).every((n) => n === 0);
}

async function waitUntil(
  plan: ChaosPlan,
  started: number,
  check: () => Promise<boolean>,
  timeoutMs = 600_000,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    overDeadline(plan, started);
    // A query can fail while a service restarts; that is "not yet", not a verdict.
    if (await check().catch(() => false)) return true;
    if (Date.now() > until) return false;
    await sleep(200);
  }
}

export class ChaosDeadlineError extends Error {
  override readonly name = "ChaosDeadlineError";
}

function overDeadline(plan: ChaosPlan, started: number): void {
  if (Date.now() - started > plan.deadlineMs) {
    throw new ChaosDeadlineError(`chaos run exceeded ${Math.round(plan.deadlineMs / 1000)} s`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
