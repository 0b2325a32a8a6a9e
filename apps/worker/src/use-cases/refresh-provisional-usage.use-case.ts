import { enqueueAlert, quotaAlert, spendCapAlert } from "@sparks/alerts";
import {
  buildTraceInput,
  deriveUsage,
  groupByTrace,
  isTierName,
  monthOf,
  monthRange,
  NANO_PER_SPARK,
  reachedThresholds,
  spendCapSparks,
} from "@sparks/core";
import { CustomerRepository, QuotaRepository, type StagedObservation, SyncRunRepository } from "@sparks/db";
import {
  createLangfuseReader,
  LangfuseError,
  type LangfuseReader,
  type ObservationRecord,
} from "@sparks/langfuse";
import { QuotaCountersGuard } from "@sparks/ledger";
import { QuotaStore, UsageCounters } from "@sparks/queues";
import type { WorkerDeps } from "../worker-deps";
import { WATERMARK_NAME } from "./pipeline-context";

/** Re-read this much before the newest point already read: Langfuse ingests a few seconds late. */
export const PROVISIONAL_OVERLAP_MS = 120_000;
/** Observations per request: one v2 page at its maximum. */
const PAGE_SIZE = 1_000;
/** Back-off after a 429 without Retry-After: doubles per 429, at most this long. */
const MAX_BACKOFF_MS = 5 * 60_000;

export interface RefreshProvisionalResult {
  /** Langfuse requests made by this run (0 or 1). */
  requests: number;
  observations: number;
  customers: number;
  skipped?: "no_langfuse" | "backing_off";
  backoffMs?: number;
}

/** The compact form an observation of the open window is kept in (Redis hash value). */
interface StoredObservation {
  t: string;
  y: string;
  s: number;
  u: string | null;
  r: boolean;
  d: Record<string, unknown> | null;
  m: Record<string, unknown> | null;
}

const readers = new WeakMap<WorkerDeps, LangfuseReader | null>();

/**
 * A reader of its own with no in-process retries: the budget is one request per refresh, and a
 * 429 must make the next refresh wait, not this one sleep and retry.
 */
function readerFor(deps: WorkerDeps): LangfuseReader | null {
  if (readers.has(deps)) return readers.get(deps) ?? null;
  const lf = deps.config.langfuse;
  const reader =
    lf.publicKey && lf.secretKey
      ? createLangfuseReader({
          baseUrl: lf.baseUrl,
          publicKey: lf.publicKey,
          secretKey: lf.secretKey,
          api: lf.api,
          pageSize: PAGE_SIZE,
          maxRetries: 0,
          timeoutMs: 10_000,
        })
      : null;
  readers.set(deps, reader);
  return reader;
}

function keys(prefix: string) {
  const base = `${prefix}:quota:prov`;
  return { obs: `${base}:obs`, state: `${base}:state` };
}

function toStored(r: ObservationRecord): StoredObservation {
  return {
    t: r.traceId,
    y: r.type,
    s: r.startTime.getTime(),
    u: r.userId,
    r: r.isRoot,
    d: r.usageDetails,
    m: r.metadata,
  };
}

function toStaged(id: string, o: StoredObservation): StagedObservation {
  return {
    observationId: id,
    traceId: o.t,
    type: o.y,
    startTime: new Date(o.s),
    userId: o.u,
    isRoot: o.r,
    usageDetails: o.d,
    metadata: o.m,
    costUsd: null,
  };
}

/** Reads the first page only: that is the one request this refresh may spend. */
async function firstPage(reader: LangfuseReader, from: Date, to: Date): Promise<ObservationRecord[]> {
  for await (const page of reader.readWindow({ from, to })) return page;
  return [];
}

/**
 * SPEC §5 "quota in real time" (issue 16): reads the open Langfuse window — from the last
 * closed boundary (the sync watermark) to now — with ONE request per run for all customers,
 * into provisional per-customer-month counters. Those are replaced as a whole every run, so
 * usage whose window closed (and is now in the billed counter) drops out. Never billed: nothing
 * here touches the ledger or Stripe.
 *
 * Langfuse's v2 list is newest first: a full page covers only the newest part of the window, so
 * the older rest is remembered as a gap and read by the next runs (still one request each).
 * A 429 backs the next runs off (Retry-After, else doubling). Also raises the quota (80/100%)
 * and spend-cap (50/80/100%) alerts on billed + provisional, once per threshold per month.
 */
export async function refreshProvisionalUsage(deps: WorkerDeps): Promise<RefreshProvisionalResult> {
  const redis = deps.connection;
  const prefix = deps.queues.prefix;
  const store = new QuotaStore({ redis, prefix });
  // A worker also heals counters that Redis lost, even when no /quota request comes in.
  await new QuotaCountersGuard({
    database: deps.database,
    redis,
    queues: deps.queues,
    logger: deps.logger,
    ...(deps.now ? { now: deps.now } : {}),
  }).ensure();

  const reader = readerFor(deps);
  if (!reader) return { requests: 0, observations: 0, customers: 0, skipped: "no_langfuse" };
  const k = keys(prefix);
  const now = deps.now?.() ?? new Date();
  const nowMs = now.getTime();
  const state = await redis.hgetall(k.state);
  const backoffUntil = Number(state.backoffUntil ?? 0);
  if (backoffUntil > nowMs) {
    return {
      requests: 0,
      observations: 0,
      customers: 0,
      skipped: "backing_off",
      backoffMs: backoffUntil - nowMs,
    };
  }

  const watermark = await new SyncRunRepository(deps.database.db).watermark(WATERMARK_NAME);
  const boundaryMs = (watermark ?? monthRange(monthOf(now)).start).getTime();
  const gapFrom = Number(state.gapFrom ?? 0);
  const gapTo = Number(state.gapTo ?? 0);
  const readingGap = gapTo > gapFrom && gapTo > boundaryMs;
  const from = Math.max(boundaryMs, readingGap ? gapFrom : Number(state.high ?? 0) - PROVISIONAL_OVERLAP_MS);
  const to = readingGap ? gapTo : nowMs;

  let page: ObservationRecord[] = [];
  if (to > from) {
    try {
      page = await firstPage(reader, new Date(from), new Date(to));
    } catch (error) {
      if (error instanceof LangfuseError && error.status === 429) {
        const previous = Number(state.backoffMs ?? 0);
        const retryAfter = error.retryAfterMs ?? 0;
        const backoffMs = Math.min(
          MAX_BACKOFF_MS,
          Math.max(retryAfter, previous > 0 ? previous * 2 : 10_000),
        );
        await redis.hset(k.state, { backoffUntil: String(nowMs + backoffMs), backoffMs: String(backoffMs) });
        deps.logger.warn({ backoffMs }, "Langfuse rate-limited the quota refresh; backing off");
        return { requests: 1, observations: 0, customers: 0, skipped: "backing_off", backoffMs };
      }
      throw error;
    }
  }

  // Where the next run reads: the rest of a window a full page did not cover, else onward.
  const next: Record<string, string> = { backoffUntil: "0", backoffMs: "0" };
  const oldest = page.reduce((min, r) => Math.min(min, r.startTime.getTime()), Number.POSITIVE_INFINITY);
  const full = page.length >= PAGE_SIZE;
  if (readingGap) {
    next.gapFrom = String(gapFrom);
    next.gapTo = full ? String(oldest) : "0";
  } else {
    next.high = String(to);
    next.gapFrom = String(from);
    next.gapTo = full ? String(oldest) : "0";
  }
  if (page.length > 0) {
    const fields: Record<string, string> = {};
    for (const r of page) fields[r.observationId] = JSON.stringify(toStored(r));
    await redis.hset(k.obs, fields);
  }
  await redis.hset(k.state, next);

  // Everything kept that is still in the open window; what the sync closed drops out.
  const all = await redis.hgetall(k.obs);
  const rows: StagedObservation[] = [];
  const closed: string[] = [];
  for (const [id, json] of Object.entries(all)) {
    const o = JSON.parse(json) as StoredObservation;
    if (o.s < boundaryMs) closed.push(id);
    else rows.push(toStaged(id, o));
  }
  if (closed.length > 0) await redis.hdel(k.obs, ...closed);

  const byRef = new Map<string, Map<string, bigint>>();
  for (const [traceId, traceRows] of groupByTrace(rows)) {
    const trace = buildTraceInput(traceId, traceRows);
    const derived = deriveUsage(trace, deps.config.billing);
    if (!derived.customerRef || derived.traceProblem) continue;
    const month = monthOf(trace.timestamp);
    let nano = 0n;
    for (const item of derived.items) nano += item.nanoSparks;
    const perMonth = byRef.get(derived.customerRef) ?? new Map<string, bigint>();
    perMonth.set(month, (perMonth.get(month) ?? 0n) + nano);
    byRef.set(derived.customerRef, perMonth);
  }
  const customers = await new CustomerRepository(deps.database.db).findByReferences([...byRef.keys()]);
  const totals = new Map<string, Map<string, number>>([[monthOf(now), new Map()]]);
  for (const [ref, perMonth] of byRef) {
    const customer = customers.get(ref);
    if (!customer) continue;
    for (const [month, nano] of perMonth) {
      const monthTotals = totals.get(month) ?? new Map<string, number>();
      monthTotals.set(customer.id, (monthTotals.get(customer.id) ?? 0) + Number(nano / NANO_PER_SPARK));
      totals.set(month, monthTotals);
    }
  }
  for (const [month, monthTotals] of totals) await store.replaceProvisional(month, monthTotals);

  await raiseThresholdAlerts(deps, totals.get(monthOf(now)) ?? new Map(), monthOf(now));
  return { requests: to > from ? 1 : 0, observations: page.length, customers: customers.size };
}

/**
 * Quota (free, 80/100%) and spend-cap (paid, 50/80/100%) alerts on billed + provisional. A
 * Redis "once" key per threshold, customer and month keeps the queue quiet between runs; the
 * alerts worker's Postgres dedupe (alerts_sent) makes a repeat after a Redis wipe a no-op.
 */
async function raiseThresholdAlerts(deps: WorkerDeps, provisional: Map<string, number>, month: string) {
  const redis = deps.connection;
  const counters = new UsageCounters({ redis, prefix: deps.queues.prefix });
  const customers = new CustomerRepository(deps.database.db);
  const caps = await new QuotaRepository(deps.database.db).allCaps();
  const capOf = new Map(caps.map((c) => [c.customerId, c]));
  const ids = new Set([...provisional.keys(), ...capOf.keys()]);
  const once = async (name: string) =>
    (await redis.set(`${deps.queues.prefix}:quota:alerted:${name}`, "1", "EX", 40 * 86_400, "NX")) === "OK";
  for (const id of ids) {
    const row = await customers.findById(id);
    if (!row || !isTierName(row.tier)) continue;
    const used = ((await counters.get(id, month))?.sparks ?? 0) + (provisional.get(id) ?? 0);
    const cap = capOf.get(id);
    if (row.tier !== "free" && cap) {
      const capSparks = spendCapSparks(cap, deps.config.billing.sparkRateUsd);
      for (const t of reachedThresholds(used, capSparks, [50, 80, 100]) as (50 | 80 | 100)[]) {
        if (!(await once(`cap:${t}:${id}:${month}`))) continue;
        await enqueueAlert(
          deps.queues,
          spendCapAlert({ customerId: id, threshold: t, month, usedSparks: used, capSparks, soft: cap.soft }),
          { logger: deps.logger },
        );
      }
      continue;
    }
    const limit =
      row.tier === "enterprise" && row.customQuota !== null
        ? row.customQuota
        : deps.config.billing.tiers[row.tier].monthlyQuota;
    for (const t of reachedThresholds(used, limit, [80, 100]) as (80 | 100)[]) {
      if (!(await once(`quota:${t}:${id}:${month}`))) continue;
      await enqueueAlert(
        deps.queues,
        quotaAlert({ customerId: id, threshold: t, month, usedSparks: used, limitSparks: limit ?? 0 }),
        { logger: deps.logger },
      );
    }
  }
}
