import { type ChildProcess, spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@sparks/config";
import { CustomerRepository, executeRows } from "@sparks/db";
import { type PrivateRedis, startPrivateRedis } from "@sparks/testing";
import { SCHEDULER_IDS } from "@sparks/worker";
import { Redis } from "ioredis";
import { type ChaosEnvironment, createChaosEnvironment } from "./chaos-environment";
import { type QuotaSample, type QuotaTruth, QuotaWatch } from "./quota-watch";
import { WorkerFleet } from "./worker-fleet";

const API_ENTRY = fileURLToPath(new URL("./api-process.ts", import.meta.url));
const WORKER_ENTRY = fileURLToPath(new URL("./scheduled-worker.process.ts", import.meta.url));
const ACTION_SECRET = "chaos-redis-wipe-action-secret";
const PREFIX = "sparks";

/** `flushall`: every key gone under running clients. `restart`: the server stopped and started empty. */
export type WipeKind = "flushall" | "restart";

export interface RedisWipeOptions {
  /** SYNC_SCHEDULE's period in seconds (a six-field cron), so one period is seconds, not minutes. */
  periodSeconds: number;
  /** The scheduler keeper's check interval (production: 30 s against a 5 min schedule). */
  checkIntervalMs: number;
  /** Time the fired scheduled sync itself may take (an empty Langfuse window) before it counts as late. */
  runAllowanceMs: number;
  wipes: WipeKind[];
  /** How long Redis stays down in a `restart` wipe. */
  downMs: number;
  pollIntervalMs: number;
}

export const REDIS_WIPE_OPTIONS: RedisWipeOptions = {
  periodSeconds: 5,
  checkIntervalMs: 1_000,
  runAllowanceMs: 2_000,
  wipes: ["flushall", "restart"],
  downMs: 1_000,
  pollIntervalMs: 50,
};

export interface RedisWipeResult {
  rows: Array<[string, string | number]>;
  failures: string[];
  durationMs: number;
}

/** Per wipe: the two figures the issue asks for, plus what explains them. */
export interface WipeMeasurement {
  kind: WipeKind;
  /** From Redis back empty until every job scheduler exists again (null: never). */
  schedulersBackMs: number | null;
  /** From Redis back empty until the first scheduled sync that started afterwards completed. */
  resumedMs: number | null;
  /** From Redis gone until every polled customer's `/quota` was live again (counters rebuilt). */
  countersLiveMs: number | null;
  quotaWrongSeconds: number;
  quotaDegradedAnswers: number;
  quotaErrorAnswers: number;
  quotaRounds: number;
}

/**
 * Issue 19's `--redis-wipe` phase: the API and the production worker (schedulers + keeper) as
 * separate processes on a private redis-server (the machine's shared Redis is never wiped),
 * three customers with usage in the Postgres ledger, `/quota` polled continuously for all of
 * them; then Redis is wiped under them (FLUSHALL, then stopped and started empty). Measured:
 * seconds until scheduled work resumed (the next scheduled sync completed) against one
 * scheduler period + one keeper check + the sync's own run time, and seconds `/quota` answered
 * wrong (target 0).
 */
export async function runRedisWipe(
  options: RedisWipeOptions,
  log: (line: string) => void,
): Promise<RedisWipeResult> {
  const started = Date.now();
  const redis = await startPrivateRedis();
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  // The wipes below drop this connection on purpose; it reconnects by itself.
  connection.on("error", () => undefined);
  let env: ChaosEnvironment | null = null;
  let api: ChildProcess | null = null;
  let fleet: WorkerFleet | null = null;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  let polling = false;
  let poller: Promise<void> = Promise.resolve();
  try {
    env = await createChaosEnvironment(0, {
      redis: { url: redis.url, prefix: PREFIX, connection, cleanup: async () => connection.disconnect() },
    });
    // This process reads the schedulers through these queues; while Redis is down on purpose,
    // BullMQ would print each reconnect error of a queue without an 'error' listener.
    for (const queue of env.queues.allQueues()) queue.on("error", () => undefined);
    const processEnv = {
      ...env.env,
      DATABASE_URL: env.database.url,
      REDIS_URL: redis.url,
      SYNC_SCHEDULE: `*/${options.periodSeconds} * * * * *`,
      AUTH0_ACTION_SECRET: ACTION_SECRET,
    };
    const truth = await seedLedger(env, loadConfig(processEnv).billing.tiers.free.monthlyQuota ?? 10_000);
    const customerIds = [...truth.keys()];

    fleet = new WorkerFleet(
      {
        databaseUrl: env.database.url,
        redisUrl: redis.url,
        env: processEnv,
        schedulerCheckIntervalMs: options.checkIntervalMs,
      },
      WORKER_ENTRY,
    );
    await fleet.start();
    const startedApi = await startApiProcess({ env: processEnv, redisUrl: redis.url, prefix: PREFIX });
    api = startedApi.child;
    const port = startedApi.port;
    let apiExit: string | null = null;
    api.once("exit", (code, signal) => {
      apiExit = `the API process exited (code ${code}, signal ${signal}): ${startedApi.stderr.join("").slice(-2_000)}`;
    });

    const watch = new QuotaWatch(truth);
    polling = true;
    poller = (async () => {
      while (polling) {
        const at = Date.now();
        const samples = await Promise.all(customerIds.map((id) => askQuota(agent, port, id)));
        watch.record(at, samples);
        await sleep(Math.max(0, options.pollIntervalMs - (Date.now() - at)));
      }
    })();

    // Before any wipe: a scheduled sync has run and every answer is live and right.
    const readyEnv = env;
    const baselineAt = Date.now();
    const baseline = await waitFor(
      async () =>
        (await scheduledSyncAfter(readyEnv, baselineAt - 60_000)).completedAt !== null &&
        allLive(watch.latest(), customerIds.length),
      30_000,
    );
    if (baseline === null) {
      throw new Error(
        `redis-wipe: no scheduled sync completed or /quota not live within 30 s (${JSON.stringify(watch.latest())})`,
      );
    }
    const before = watch.figures(baselineAt, Date.now());
    log(
      `redis-wipe (private redis-server ${redis.url}, SYNC_SCHEDULE every ${options.periodSeconds} s, keeper every ${options.checkIntervalMs} ms): baseline live after ${(baseline / 1000).toFixed(1)} s, ${before.wrongAnswers} wrong answers before any wipe`,
    );

    const tolerance = toleranceMs(options);
    const measurements: WipeMeasurement[] = [];
    for (const kind of options.wipes) {
      const m = await wipeAndMeasure(kind, { redis, env: readyEnv, watch, options, customers: customerIds });
      measurements.push(m);
      log(
        `  ${labelOf(kind, options)}: schedulers back ${seconds(m.schedulersBackMs)} s, work resumed ${seconds(m.resumedMs)} s (target ≤ ${seconds(tolerance)}), /quota wrong ${m.quotaWrongSeconds.toFixed(2)} s`,
      );
    }
    polling = false;
    await poller;
    // Also between and after the wipes' windows: a wrong answer anywhere in the phase counts.
    const whole = watch.figures(baselineAt, Date.now());

    const failures: string[] = [];
    if (before.wrongAnswers > 0)
      failures.push(`redis-wipe: ${before.wrongAnswers} wrong /quota answers before any wipe`);
    for (const m of measurements) {
      const label = labelOf(m.kind, options);
      if (m.resumedMs === null || m.resumedMs > tolerance) {
        failures.push(
          `redis-wipe ${label}: scheduled work resumed after ${seconds(m.resumedMs)} s, not within ${seconds(tolerance)} s (one ${options.periodSeconds} s period + ${options.checkIntervalMs} ms keeper check + ${options.runAllowanceMs} ms run)`,
        );
      }
      if (m.countersLiveMs === null) {
        failures.push(`redis-wipe ${label}: /quota never answered from live counters again (30 s)`);
      }
      if (m.quotaWrongSeconds > 0) {
        failures.push(`redis-wipe ${label}: /quota answered wrong for ${m.quotaWrongSeconds.toFixed(2)} s`);
      }
    }
    if (whole.wrongSeconds > 0) {
      failures.push(
        `redis-wipe: /quota answered wrong for ${whole.wrongSeconds.toFixed(2)} s over the whole phase (last: ${JSON.stringify(whole.lastWrong)})`,
      );
    }
    // The keeper logs each wipe it noticed (and queues the redis_data_lost alert with it).
    const noticed = fleet
      .logs()
      .split("\n")
      .filter((line) => line.includes("Redis lost its data")).length;
    if (apiExit !== null) failures.push(`redis-wipe: ${apiExit}`);
    if (fleet.crashes > 0) failures.push(`redis-wipe: the worker crashed`, ...fleet.crashReports);

    const rows: Array<[string, string | number]> = [
      ["Redis", "private redis-server (never the shared one)"],
      ["scheduler period (SYNC_SCHEDULE)", `${options.periodSeconds} s`],
      ["keeper check interval", `${options.checkIntervalMs} ms`],
      [
        "work-resumed target",
        `≤ ${seconds(tolerance)} s (1 period + 1 check + ${seconds(options.runAllowanceMs)} s run)`,
      ],
      ["customers polled on /quota", `${customerIds.length} (free over, free under, standard)`],
      ["wipes the keeper noticed (worker log)", `${noticed} of ${measurements.length}`],
      ["/quota wrong over the whole phase (s), target 0", whole.wrongSeconds.toFixed(2)],
      ["/quota polls over the whole phase", whole.rounds * customerIds.length],
    ];
    for (const m of measurements) {
      const label = labelOf(m.kind, options);
      rows.push(
        [`${label}: schedulers back (s)`, seconds(m.schedulersBackMs)],
        [
          `${label}: work resumed (s), target ≤ ${seconds(tolerance)}`,
          m.resumedMs === null
            ? "never"
            : `${seconds(m.resumedMs)} (${(m.resumedMs / 1000 / options.periodSeconds).toFixed(2)} periods)`,
        ],
        [`${label}: /quota wrong (s), target 0`, m.quotaWrongSeconds.toFixed(2)],
        [`${label}: /quota live again after (s)`, seconds(m.countersLiveMs)],
        [`${label}: /quota from the ledger (fail policy)`, m.quotaDegradedAnswers],
        [`${label}: /quota errors (no answer)`, m.quotaErrorAnswers],
        [`${label}: /quota polls`, m.quotaRounds * customerIds.length],
      );
    }
    return { rows, failures, durationMs: Date.now() - started };
  } finally {
    polling = false;
    await poller.catch(() => undefined);
    agent.destroy();
    await fleet?.stopAll();
    if (api && api.exitCode === null) {
      const child = api;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      });
    }
    await env?.close();
    await redis.close();
  }
}

/** One period + one keeper check (a FLUSHALL is only noticed at the next check) + the run itself. */
export function toleranceMs(options: RedisWipeOptions): number {
  return options.periodSeconds * 1000 + options.checkIntervalMs + options.runAllowanceMs;
}

function labelOf(kind: WipeKind, options: RedisWipeOptions): string {
  return kind === "flushall" ? "FLUSHALL" : `restart empty (down ${seconds(options.downMs)} s)`;
}

function seconds(ms: number | null): string {
  return ms === null ? "never" : (ms / 1000).toFixed(1);
}

async function wipeAndMeasure(
  kind: WipeKind,
  ctx: {
    redis: PrivateRedis;
    env: ChaosEnvironment;
    watch: QuotaWatch;
    options: RedisWipeOptions;
    customers: string[];
  },
): Promise<WipeMeasurement> {
  const { redis, env, watch, options } = ctx;
  // /quota is judged from the moment Redis went away; the resume clock starts when it is back
  // empty (how long it stays down in a restart is the operator's, not the keeper's, time).
  const brokeAt = Date.now();
  if (kind === "flushall") {
    await redis.wipe();
  } else {
    await redis.stop();
    await sleep(options.downMs);
    await redis.start();
  }
  const emptyAt = Date.now();
  const giveUpMs = 3 * toleranceMs(options);
  let schedulersBackMs: number | null = null;
  let resumedMs: number | null = null;
  await waitFor(async () => {
    if (schedulersBackMs === null && (await allSchedulers(env))) schedulersBackMs = Date.now() - emptyAt;
    if (resumedMs === null) {
      const { completedAt } = await scheduledSyncAfter(env, emptyAt);
      if (completedAt !== null) resumedMs = completedAt - emptyAt;
    }
    return schedulersBackMs !== null && resumedMs !== null;
  }, giveUpMs);
  // The wipe's window closes once every customer's counters are live again (rebuilt from the
  // ledger) and a few more rounds saw it.
  await waitFor(async () => allLive(watch.latest(), ctx.customers.length), 30_000);
  await sleep(options.pollIntervalMs * 4);
  const closedAt = Date.now();
  const figures = watch.figures(brokeAt, closedAt);
  const liveAt = watch.liveAgainAt(brokeAt, closedAt);
  const countersLiveMs = liveAt === null ? null : liveAt - brokeAt;
  return {
    kind,
    schedulersBackMs,
    resumedMs,
    countersLiveMs,
    quotaWrongSeconds: figures.wrongSeconds,
    quotaDegradedAnswers: figures.degradedAnswers,
    quotaErrorAnswers: figures.errorAnswers,
    quotaRounds: figures.rounds,
  };
}

/** Three customers with billed usage in the ledger, as a finished sync leaves it. */
async function seedLedger(env: ChaosEnvironment, freeQuota: number): Promise<Map<string, QuotaTruth>> {
  const database = env.database.database;
  if (database.kind !== "postgres") throw new Error("the chaos database is Postgres");
  const repo = new CustomerRepository(database.db);
  const month = new Date().toISOString().slice(0, 7);
  const seeds = [
    { ref: "auth0|wipe-free-over", tier: "free" as const, sparks: freeQuota + 2_000, allowed: false },
    { ref: "auth0|wipe-free-under", tier: "free" as const, sparks: Math.floor(freeQuota / 3), allowed: true },
    { ref: "auth0|wipe-standard", tier: "standard" as const, sparks: 5_000, allowed: true },
  ];
  const truth = new Map<string, QuotaTruth>();
  for (const seed of seeds) {
    const { id } = await repo.insert({ auth0UserId: seed.ref, tier: seed.tier });
    await database.client`insert into usage_items (trace_id, usage_category, customer_id, month, occurred_at, exact_sparks, status)
      values (${`t-${id}`}, 'ai_tokens', ${id}, ${month}, now(), ${String(seed.sparks)}, 'sent')`;
    truth.set(id, { used: seed.sparks, allowed: seed.allowed });
  }
  return truth;
}

async function allSchedulers(env: ChaosEnvironment): Promise<boolean> {
  for (const [queue, id] of SCHEDULER_IDS) {
    if (!(await env.queues.queue(queue).getJobScheduler(id))) return false;
  }
  return true;
}

/** The first scheduled sync run started at or after `sinceMs`, from the Postgres ledger (it survives the wipe). */
async function scheduledSyncAfter(
  env: ChaosEnvironment,
  sinceMs: number,
): Promise<{ completedAt: number | null }> {
  const rows = await executeRows<{ completed_ms: unknown }>(
    env.database.database.db,
    `select extract(epoch from min(finished_at)) * 1000 as completed_ms from sync_runs
      where trigger = 'schedule' and status = 'completed'
        and started_at >= to_timestamp(${Math.floor(sinceMs)} / 1000.0)`,
  );
  const value = rows[0]?.completed_ms;
  return { completedAt: value === null || value === undefined ? null : Number(value) };
}

function allLive(samples: QuotaSample[], count: number): boolean {
  return samples.length === count && samples.every((s) => s.status === 200 && s.counters === "live");
}

/** Polls `check` until true; the elapsed ms, or null at the timeout. A throwing check is "not yet". */
async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const start = Date.now();
  for (;;) {
    if (await check().catch(() => false)) return Date.now() - start;
    if (Date.now() - start > timeoutMs) return null;
    await sleep(100);
  }
}

async function startApiProcess(spec: {
  env: Record<string, string>;
  redisUrl: string;
  prefix: string;
}): Promise<{ child: ChildProcess; port: number; stderr: string[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", API_ENTRY, JSON.stringify(spec)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  // While Redis is down BullMQ prints every reconnect error of a queue without an 'error'
  // listener to stderr; only the tail is kept, for when the API dies.
  const stderr: string[] = [];
  child.stderr?.on("data", (d: Buffer) => {
    stderr.push(d.toString());
    if (stderr.length > 50) stderr.splice(0, stderr.length - 20);
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      const match = /listening (\d+)/.exec(d.toString());
      if (match?.[1]) resolve(Number(match[1]));
    });
    child.once("exit", (code) =>
      reject(new Error(`API process exited (${code}): ${stderr.join("").slice(-2_000)}`)),
    );
  });
  return { child, port, stderr };
}

function askQuota(agent: Agent, port: number, customerId: string): Promise<QuotaSample> {
  const none: QuotaSample = {
    customerId,
    status: 0,
    used: null,
    allowed: null,
    reason: null,
    counters: null,
  };
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        agent,
        method: "GET",
        path: `/quota?customer_id=${encodeURIComponent(customerId)}`,
        headers: { authorization: `Bearer ${ACTION_SECRET}` },
        timeout: 2_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
            resolve({
              customerId,
              status,
              used: typeof body.used === "number" ? body.used : null,
              allowed: typeof body.allowed === "boolean" ? body.allowed : null,
              reason: typeof body.reason === "string" ? body.reason : null,
              counters: typeof body.counters === "string" ? body.counters : null,
            });
          } catch {
            resolve({ ...none, status });
          }
        });
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(none));
    req.end();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
