import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { bundleEntry } from "@sparks/bundler";
import { TIER_NAMES } from "@sparks/core";
import { customers, executeRows, UsageItemRepository } from "@sparks/db";
import { QueueService } from "@sparks/queues";
import { createStripeClient, setupStripeCatalog } from "@sparks/stripe";
import {
  ABUSE_LIMITS_OFF_ENV,
  createTestDatabase,
  createTestRedis,
  type TestDatabase,
} from "@sparks/testing";
import type { PipelineOptions } from "@sparks/worker";
import type Stripe from "stripe";
import type { EmulatorHostInfo, EmulatorHostSpec, MeterCallsView } from "./hosts/emulator-host.types";
import { ChildHost } from "./hosts/ipc.channel";
import type { WorkerHostSpec } from "./hosts/worker-host.types";

const EMULATOR_ENTRY = new URL("./hosts/emulator-host.entry.ts", import.meta.url);
const WORKER_ENTRY = new URL("./hosts/worker-host.entry.ts", import.meta.url);
const WORKER_BUNDLE = new URL("../../../.bench/worker-host.mjs", import.meta.url);
let workerBundle: Promise<URL> | null = null;

/**
 * The worker runs as production runs it (`pnpm build`: one bundled file for plain node), so
 * its memory and CPU are Sparks' own, not the TypeScript loader's. Built once per bench run.
 */
function bundledWorker(): Promise<URL> {
  workerBundle ??= bundleEntry({
    entry: fileURLToPath(WORKER_ENTRY),
    outfile: fileURLToPath(WORKER_BUNDLE),
  }).then(() => WORKER_BUNDLE);
  return workerBundle;
}
const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

export class BenchTimeoutError extends Error {
  override readonly name = "BenchTimeoutError";
}

/** `cust_0001`… exactly as the traffic generator names its customers. */
export function customerRefs(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `cust_${String(i + 1).padStart(4, "0")}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Peak resident set of a process (VmHWM in /proc/<pid>/status), in MB. */
export async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /VmHWM:\s+(\d+)\s+kB/.exec(status);
  if (!match?.[1]) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(match[1]) / 1024;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (100 ticks/s). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface WorkerProcess {
  host: ChildHost;
  peakRssMb(): Promise<number>;
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

export interface WorkerStart {
  only: WorkerHostSpec["only"];
  pipeline?: PipelineOptions;
  env?: Record<string, string>;
  maxConnections?: number;
  nodeFlags?: string[];
}

export interface SyncOutcome {
  syncId: string;
  seconds: number;
  counts: Record<string, number>;
}

/**
 * One isolated world per figure: its own Postgres database (cloned from the migrated template
 * and dropped at the end), its own BullMQ prefix, and the emulators in a child process seeded
 * with deterministic Flowise traffic; Stripe holds the catalog and one customer per traffic
 * customer, and the ledger knows them.
 */
export class BenchEnvironment {
  private readonly workers: WorkerProcess[] = [];

  private constructor(
    readonly emulators: ChildHost,
    readonly info: EmulatorHostInfo,
    readonly stripe: Stripe,
    /** ref → Stripe customer id. */
    readonly stripeIds: Map<string, string>,
    readonly database: TestDatabase | null,
    readonly redis: Awaited<ReturnType<typeof createTestRedis>> | null,
    readonly queues: QueueService | null,
    /** The traffic's window, [from, to). */
    readonly window: { from: string; to: string },
    private readonly workerNodeFlags: string[],
  ) {}

  static async create(
    spec: EmulatorHostSpec,
    opts: { ledger: boolean; workerNodeFlags?: string[] },
  ): Promise<BenchEnvironment> {
    const emulators = ChildHost.spawn(EMULATOR_ENTRY, spec, {
      // Up to a million observations live in the emulator's heap (about 1.2 KB each).
      nodeFlags: ["--max-old-space-size=8192"],
    });
    await emulators.ready;
    const info = await emulators.request<EmulatorHostInfo>("info");
    const stripe = createStripeClient({
      secretKey: info.stripe.secretKey,
      apiBase: { host: info.stripe.host, port: info.stripe.port, protocol: "http" },
    });
    await setupStripeCatalog(stripe, { prefix: "sparks", sparkRateUsd: "0.001", tiers: TIER_NAMES });
    const refs = customerRefs(spec.traffic.customers);
    const stripeIds = new Map<string, string>();
    for (let i = 0; i < refs.length; i += 50) {
      const batch = refs.slice(i, i + 50);
      const created = await Promise.all(
        batch.map((ref) => stripe.customers.create({ email: `${ref}@example.com` })),
      );
      for (const [j, ref] of batch.entries()) stripeIds.set(ref, created[j]?.id ?? "");
    }
    let database: TestDatabase | null = null;
    let redis: Awaited<ReturnType<typeof createTestRedis>> | null = null;
    let queues: QueueService | null = null;
    if (opts.ledger) {
      database = await createTestDatabase({ maxConnections: 4 });
      redis = await createTestRedis();
      queues = new QueueService({ connection: redis.connection, prefix: redis.prefix });
      await database.database.db.insert(customers).values(
        refs.map((ref) => ({
          id: ref,
          stripeCustomerId: stripeIds.get(ref) ?? null,
          tier: "standard" as const,
        })),
      );
    }
    return new BenchEnvironment(
      emulators,
      info,
      stripe,
      stripeIds,
      database,
      redis,
      queues,
      {
        from: spec.traffic.from,
        to: spec.traffic.to,
      },
      opts.workerNodeFlags ?? [],
    );
  }

  /** The production env of a worker pointed at these emulators. */
  env(overrides: Record<string, string> = {}): Record<string, string> {
    return {
      DATABASE_URL: this.ledger().database.url,
      REDIS_URL: this.ledger().redis.url,
      STRIPE_SECRET_KEY: this.info.stripe.secretKey,
      STRIPE_API_BASE: this.info.stripe.url,
      STRIPE_MAX_RPS: "1000000",
      STRIPE_AGGREGATION: "off",
      LANGFUSE_PUBLIC_KEY: this.info.langfuse.publicKey,
      LANGFUSE_SECRET_KEY: this.info.langfuse.secretKey,
      LANGFUSE_BASEURL: this.info.langfuse.url,
      LANGFUSE_API: "v2",
      LANGFUSE_LAG: "900",
      LOG_LEVEL: "warn",
      // The bench measures throughput from one client address.
      ...ABUSE_LIMITS_OFF_ENV,
      ...overrides,
    };
  }

  ledger(): { database: TestDatabase; redis: NonNullable<BenchEnvironment["redis"]>; queues: QueueService } {
    if (!this.database || !this.redis || !this.queues) throw new Error("this environment has no ledger");
    return { database: this.database, redis: this.redis, queues: this.queues };
  }

  async startWorker(start: WorkerStart): Promise<WorkerProcess> {
    const { database, redis } = this.ledger();
    const spec: WorkerHostSpec = {
      env: this.env(start.env),
      databaseUrl: database.url,
      redisUrl: redis.url ?? DEFAULT_REDIS_URL,
      prefix: redis.prefix,
      only: start.only,
      pipeline: { ...start.pipeline },
      maxConnections: start.maxConnections ?? 10,
    };
    const host = ChildHost.spawn(await bundledWorker(), spec, {
      bundled: true,
      nodeFlags: [...this.workerNodeFlags, ...(start.nodeFlags ?? [])],
    });
    await host.ready;
    const worker: WorkerProcess = {
      host,
      peakRssMb: () => peakRssMb(host.pid),
      cpuSeconds: () => cpuSeconds(host.pid),
      stop: () => host.stop(),
    };
    this.workers.push(worker);
    return worker;
  }

  /** Enqueues a sync of [from, to) as the API would, and waits for it to complete. */
  async sync(window: { from: string; to: string }, timeoutMs: number): Promise<SyncOutcome> {
    const { database, queues } = this.ledger();
    const syncId = `sync_bench${Math.random().toString(36).slice(2, 10)}`;
    await queues.add(
      "syncUsage",
      { syncId, from: window.from, to: window.to, trigger: "manual" },
      { jobId: syncId },
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await executeRows<{ status: unknown; counts: unknown; seconds: unknown; error: unknown }>(
        database.database.db,
        `select status, counts, extract(epoch from (finished_at - started_at)) as seconds, error from sync_runs where id = '${syncId}'`,
      );
      const row = rows[0];
      if (row?.status === "completed") {
        return { syncId, seconds: Number(row.seconds), counts: (row.counts ?? {}) as Record<string, number> };
      }
      if (row?.status === "failed") throw new Error(`sync ${syncId} failed: ${String(row.error)}`);
      if (Date.now() > deadline)
        throw new BenchTimeoutError(`sync ${syncId} did not complete in ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** Waits until nothing is pending/sending and the push queue is empty. */
  async drained(timeoutMs: number): Promise<void> {
    const { database, queues } = this.ledger();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await executeRows<{ n: unknown }>(
        database.database.db,
        `select count(*) as n from usage_items where status in ('pending', 'sending')`,
      );
      if (Number(rows[0]?.n ?? 0) === 0) {
        const counts = await queues
          .queue("pushMeterEvents")
          .getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children");
        if (Object.values(counts).every((n) => n === 0)) return;
      }
      if (Date.now() > deadline) throw new BenchTimeoutError(`push not drained in ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /** A push job for every group with unsent items (what a sync's sweep does). */
  async enqueuePushForPendingGroups(): Promise<number> {
    const { database, queues } = this.ledger();
    const groups = await new UsageItemRepository(database.database.db).groupsWithWork();
    for (const g of groups) {
      await queues.add("pushMeterEvents", {
        customerId: g.customerId,
        category: g.category as "ai_tokens",
        month: g.month,
      });
    }
    return groups.length;
  }

  async countRows(sql: string): Promise<number> {
    const rows = await executeRows<{ n: unknown }>(this.ledger().database.database.db, sql);
    return Number(rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    for (const w of this.workers) await w.stop().catch(() => undefined);
    await this.queues?.close().catch(() => undefined);
    await this.redis?.cleanup().catch(() => undefined);
    await this.database?.drop().catch(() => undefined);
    await this.emulators.stop();
  }
}

/** Emulator-clock ms of the first accepted meter event (waits up to a minute for it). */
export async function firstAccepted(env: BenchEnvironment): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const calls = await env.emulators.request<MeterCallsView>("meterCalls");
    const first = calls.acceptedAt[0];
    if (first !== undefined) return first;
    if (Date.now() > deadline) throw new BenchTimeoutError("no meter event accepted within 60 s");
    await sleep(50);
  }
}
