import { alertKeys, enqueueAlert } from "@sparks/alerts";
import type { AppConfig } from "@sparks/config";
import {
  addDecimal,
  buildTraceInput,
  DECIMAL_ZERO,
  type Decimal,
  deriveUsage,
  desiredItems,
  divideToInteger,
  formatDecimal,
  formatSparks,
  groupByTrace,
  isOlderThanStripeLimit,
  isUsageCategory,
  makeDecimal,
  monthRange,
  multiplyDecimal,
  NANO_PER_SPARK,
  parseDecimal,
  parseMonth,
  parseNanoSparks,
  subtractDecimal,
} from "@sparks/core";
import {
  RECONCILE_CANCEL_OPERATION,
  RECONCILE_REPAIR_OPERATION,
  ReconciliationRepository,
  type SentMeterEvent,
  type StagedObservation,
} from "@sparks/db";
import { createLangfuseReader, type LangfuseReader } from "@sparks/langfuse";
import { PermanentJobError } from "@sparks/queues";
import { createStripeClient, MAX_IDENTIFIER_LENGTH, meterEventName, StripeCallError } from "@sparks/stripe";
import type { Logger } from "pino";
import type Stripe from "stripe";
import type { WorkerDeps } from "../worker-deps";
import { ResolutionCache } from "./ingest-traces.use-case";
import { clock } from "./pipeline-context";

/**
 * Defaults until the config package grows settings for them.
 * TODO(config): RECONCILE_DRIFT_THRESHOLD (Sparks) and MARGIN_FLOOR_PERCENT as env/config values.
 */
export const DEFAULT_DRIFT_THRESHOLD_SPARKS = 1;
export const DEFAULT_MARGIN_FLOOR_PERCENT = 20;
/** Stripe's event summaries lag behind a fresh event: events younger than this are not repaired. */
export const DEFAULT_SETTLE_MS = 10 * 60_000;
/** Stripe cancels an event only within 24 h of receipt; keep a margin for clock skew. */
const CANCEL_WINDOW_MS = 23.5 * 3_600_000;
const HOUR_S = 3_600;

export type ReconcileDeps = Pick<WorkerDeps, "config" | "database" | "now" | "langfuse" | "stripe"> & {
  /** Where a failed alert enqueue is reported. */
  logger?: Pick<Logger, "warn">;
  /** Absent: no alerts are raised (a read-only view, e.g. the API's GET). */
  queues?: WorkerDeps["queues"];
  /** A Stripe client for summaries and adjustments; default one built from the config. */
  stripeClient?: Stripe;
};

export interface ReconcileOptions {
  driftThresholdSparks?: number;
  marginFloorPercent?: number;
  settleMs?: number;
}

export interface ReconcileRow {
  customer_id: string;
  category: string;
  stripe_customer_id: string | null;
  /** Exact Sparks Langfuse shows for the month (re-read, derived like the pipeline, not written). */
  langfuse_sparks: string | null;
  /** Exact Sparks the ledger holds for the same usage (late lines billed later included). */
  ledger_occurred_sparks: string;
  /** Exact Sparks billed in this month (non-quarantined items whose billing month it is). */
  ledger_exact_sparks: string;
  /** The part of `ledger_exact_sparks` that is late usage of earlier months. */
  ledger_late_sparks: string;
  /** Whole Sparks of this month's meter events that Stripe acknowledged. */
  ledger_sent_sparks: string;
  /** Whole Sparks Stripe's meter event summaries show for the month. */
  stripe_sparks: string | null;
  drift: { langfuse_vs_ledger: string | null; ledger_vs_stripe: string | null };
}

export interface RepairAction {
  customer_id: string;
  category: string;
  action: "resend" | "cancel" | "none";
  identifier: string | null;
  original_identifier: string | null;
  value: number;
  outcome: "repaired" | "failed" | "unresolved";
  detail: string;
}

export interface MarginRow {
  customer_id: string;
  billed_usd: string;
  langfuse_cost_usd: string;
  /** (billed − cost) / billed in percent, floored; null when nothing was billed. */
  margin_percent: number | null;
  below_floor: boolean;
}

export interface ReconcileReport {
  month: string;
  generated_at: string;
  repair: boolean;
  sources: { langfuse: "read" | "not configured"; stripe: "read" | "not configured" };
  rows: ReconcileRow[];
  repairs: RepairAction[];
  margins: MarginRow[];
  alerts: string[];
}

interface LangfuseView {
  exact: Map<string, bigint>;
  traceIds: string[];
  costByCustomer: Map<string, Decimal>;
}

const key = (customerId: string, category: string) => `${customerId}\u0000${category}`;

function sparks(nano: bigint): string {
  return formatSparks(nano);
}

/**
 * The Langfuse view: the month's window re-read with the pipeline's reader and derived with the
 * pipeline's own rules (trace building, core `deriveUsage`, customer and tier resolution,
 * `desiredItems`) — nothing is staged or written. Each trace's Langfuse `totalCost` is summed per
 * resolved customer for the margin. Traces that straddle the month edge are seen only in part.
 */
async function readLangfuse(deps: ReconcileDeps, month: string): Promise<LangfuseView | null> {
  const reader = deps.langfuse;
  if (!reader) return null;
  const { start, end } = monthRange(month);
  const rows: StagedObservation[] = [];
  for await (const page of reader.readWindow({ from: start, to: end })) rows.push(...page);
  const byTrace = groupByTrace(rows);
  const derivations = [...byTrace].map(([traceId, traceRows]) => {
    const trace = buildTraceInput(traceId, traceRows);
    let cost = DECIMAL_ZERO;
    for (const r of traceRows) {
      const parsed = r.costUsd === null ? null : parseDecimal(r.costUsd);
      if (parsed?.ok) cost = addDecimal(cost, parsed.val);
    }
    return { trace, cost, derived: deriveUsage(trace, deps.config.billing) };
  });
  const refs = derivations.flatMap((d) => (d.derived.customerRef ? [d.derived.customerRef] : []));
  const { customers, tiers } = await new ResolutionCache().resolve(deps.database.db, refs);
  const exact = new Map<string, bigint>();
  const costByCustomer = new Map<string, Decimal>();
  const now = clock(deps as WorkerDeps);
  for (const { trace, cost, derived } of derivations) {
    const items = desiredItems(derived, trace.timestamp, {
      config: deps.config.billing,
      now,
      customers,
      tiers,
      syncRunId: null,
    });
    const customerId = items[0]?.customerId ?? null;
    if (customerId !== null) {
      costByCustomer.set(customerId, addDecimal(costByCustomer.get(customerId) ?? DECIMAL_ZERO, cost));
    }
    for (const item of items) {
      if (item.customerId === null || item.status === "quarantined") continue;
      const k = key(item.customerId, item.usageCategory);
      exact.set(k, (exact.get(k) ?? 0n) + parseNanoSparks(item.exactSparks));
    }
  }
  return { exact, traceIds: [...byTrace.keys()], costByCustomer };
}

/** Minute-aligned event summaries of one customer on one meter, summed per window. */
class StripeMeters {
  private ids: Map<string, string> | null = null;

  constructor(private readonly stripe: Stripe) {}

  async meterId(eventName: string): Promise<string | undefined> {
    if (!this.ids) {
      const ids = new Map<string, string>();
      for await (const m of this.stripe.billing.meters.list({ status: "active", limit: 100 })) {
        ids.set(m.event_name, m.id);
      }
      this.ids = ids;
    }
    return this.ids.get(eventName);
  }

  /** Value per window start (Unix seconds); one window without `hourly`. */
  async summaries(meterId: string, customer: string, start: Date, end: Date, hourly: boolean) {
    const out = new Map<number, number>();
    const params: Stripe.Billing.MeterListEventSummariesParams = {
      customer,
      start_time: Math.floor(start.getTime() / 60_000) * 60,
      end_time: Math.ceil(end.getTime() / 60_000) * 60,
      limit: 100,
      ...(hourly ? { value_grouping_window: "hour" as const } : {}),
    };
    for await (const s of this.stripe.billing.meters.listEventSummaries(meterId, params)) {
      out.set(s.start_time, (out.get(s.start_time) ?? 0) + Math.round(s.aggregated_value));
    }
    return out;
  }
}

/** A subset of `candidates` whose values sum to `target`: one exact match first, else greedy. */
function pickMatching<T extends { value: number }>(candidates: readonly T[], target: number): T[] | null {
  const single = candidates.find((c) => c.value === target);
  if (single) return [single];
  const picked: T[] = [];
  let left = target;
  for (const c of [...candidates].sort((a, b) => b.value - a.value)) {
    if (c.value > 0 && c.value <= left) {
      picked.push(c);
      left -= c.value;
    }
    if (left === 0) return picked;
  }
  return null;
}

function fixIdentifier(original: string, n: number): string {
  const suffix = `-fix${n}`;
  return original.length + suffix.length <= MAX_IDENTIFIER_LENGTH
    ? `${original}${suffix}`
    : `${original.slice(0, MAX_IDENTIFIER_LENGTH - suffix.length)}${suffix}`;
}

interface GroupContext {
  month: string;
  customerId: string;
  category: string;
  stripeCustomerId: string;
  eventName: string;
}

/**
 * Ledger-vs-Stripe repair of one group, hour by hour. Stripe shows less → the ledger's events of
 * that hour whose values make up the gap are re-sent: with their own identifier (Stripe takes it
 * if it never got it), or, when Stripe answers "duplicate" (it still knows the identifier but
 * does not count it), with a recorded repair identifier `…-fix<n>`. Stripe shows more → among the
 * events Sparks itself got Stripe to accept (the audit log) in the last 24 h, the ones the ledger
 * does not count are cancelled through a meter event adjustment. Every step writes an audit row.
 */
async function repairGroup(
  deps: ReconcileDeps,
  meters: StripeMeters,
  stripe: Stripe,
  meterId: string,
  group: GroupContext,
  settleMs: number,
): Promise<RepairAction[]> {
  const repo = new ReconciliationRepository(deps.database.db);
  const { start, end } = monthRange(group.month);
  const now = clock(deps as WorkerDeps);
  const hourly = await meters.summaries(meterId, group.stripeCustomerId, start, end, true);
  const events = await repo.sentEvents(group.month, group.customerId, group.category);
  const repairs = await repo.repairsOf(events.map((e) => e.identifier));
  const ledgerByHour = new Map<number, SentMeterEvent[]>();
  for (const e of events) {
    const hour = Math.floor(e.eventTimestamp.getTime() / 1000 / HOUR_S) * HOUR_S;
    ledgerByHour.set(hour, [...(ledgerByHour.get(hour) ?? []), e]);
  }
  const hours = new Set([...hourly.keys(), ...ledgerByHour.keys()]);
  const actions: RepairAction[] = [];
  const base = { customer_id: group.customerId, category: group.category };
  for (const hour of [...hours].sort((a, b) => a - b)) {
    const inLedger = ledgerByHour.get(hour) ?? [];
    const ledgerValue = inLedger.reduce((a, e) => a + e.value, 0);
    const gap = ledgerValue - (hourly.get(hour) ?? 0);
    if (gap === 0) continue;
    const at = new Date(hour * 1000).toISOString();
    if (inLedger.some((e) => e.sentAt && now.getTime() - e.sentAt.getTime() < settleMs)) {
      actions.push({
        ...base,
        action: "none",
        identifier: null,
        original_identifier: null,
        value: Math.abs(gap),
        outcome: "unresolved",
        detail: `hour ${at}: events sent in the last ${Math.round(settleMs / 60_000)} min; Stripe's summaries may lag, not repaired yet`,
      });
      continue;
    }
    if (gap > 0) {
      const picked = pickMatching(inLedger, gap);
      if (!picked) {
        actions.push({
          ...base,
          action: "none",
          identifier: null,
          original_identifier: null,
          value: gap,
          outcome: "unresolved",
          detail: `hour ${at}: Stripe lacks ${gap} Sparks that no set of the ledger's events adds up to`,
        });
        continue;
      }
      for (const e of picked)
        actions.push(await resend(deps, repo, group, e, repairs.get(e.identifier) ?? []));
    } else {
      actions.push(...(await cancelExtra(repo, stripe, group, hour, -gap, events, repairs, now)));
    }
  }
  return actions;
}

async function resend(
  deps: ReconcileDeps,
  repo: ReconciliationRepository,
  group: GroupContext,
  event: SentMeterEvent,
  priorRepairs: readonly string[],
): Promise<RepairAction> {
  const base = {
    customer_id: group.customerId,
    category: group.category,
    original_identifier: event.identifier,
  };
  const sender = deps.stripe?.sender;
  if (!sender || isOlderThanStripeLimit(event.eventTimestamp, clock(deps as WorkerDeps))) {
    return {
      ...base,
      action: "resend",
      identifier: event.identifier,
      value: event.value,
      outcome: "unresolved",
      detail: sender ? "older than Stripe's 35-day limit: cannot be re-sent" : "Stripe is not configured",
    };
  }
  // The original identifier first (only if never repaired before), then numbered repair ids.
  const tries =
    priorRepairs.length === 0
      ? [event.identifier, fixIdentifier(event.identifier, 1)]
      : [fixIdentifier(event.identifier, priorRepairs.length + 1)];
  for (const identifier of tries) {
    try {
      const sent = await sender.send({
        eventName: event.eventName,
        stripeCustomerId: event.stripeCustomerId,
        value: BigInt(event.value),
        identifier,
        timestamp: event.eventTimestamp,
      });
      if (sent.outcome === "duplicate") continue;
      await repo.recordAudit({
        operation: RECONCILE_REPAIR_OPERATION,
        identifier,
        meterEventId: event.id,
        request: { original_identifier: event.identifier, value: event.value, month: group.month },
        response: { outcome: sent.outcome, request_id: sent.requestId ?? null },
        statusCode: sent.statusCode,
        error: null,
      });
      return {
        ...base,
        action: "resend",
        identifier,
        value: event.value,
        outcome: "repaired",
        detail:
          identifier === event.identifier
            ? "Stripe lacked the event: re-sent with its own identifier"
            : "Stripe still knows the identifier but does not count it: re-sent under a repair identifier",
      };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await repo.recordAudit({
        operation: RECONCILE_REPAIR_OPERATION,
        identifier,
        meterEventId: event.id,
        request: { original_identifier: event.identifier, value: event.value, month: group.month },
        response: null,
        statusCode: e instanceof StripeCallError ? (e.statusCode ?? null) : null,
        error: message,
      });
      return {
        ...base,
        action: "resend",
        identifier,
        value: event.value,
        outcome: "failed",
        detail: message,
      };
    }
  }
  return {
    ...base,
    action: "resend",
    identifier: tries[tries.length - 1] ?? event.identifier,
    value: event.value,
    outcome: "failed",
    detail: "Stripe answered duplicate to every identifier tried",
  };
}

async function cancelExtra(
  repo: ReconciliationRepository,
  stripe: Stripe,
  group: GroupContext,
  hour: number,
  excess: number,
  events: readonly SentMeterEvent[],
  repairs: ReadonlyMap<string, string[]>,
  now: Date,
): Promise<RepairAction[]> {
  const base = { customer_id: group.customerId, category: group.category, original_identifier: null };
  const from = new Date(hour * 1000);
  const to = new Date((hour + HOUR_S) * 1000);
  const sends = await repo.auditedSends(
    group.stripeCustomerId,
    group.eventName,
    from,
    to,
    new Date(now.getTime() - CANCEL_WINDOW_MS),
  );
  // What the ledger counts: each sent meter event once, under its latest repair identifier.
  const counted = new Set(events.map((e) => repairs.get(e.identifier)?.at(-1) ?? e.identifier));
  const cancelled = await repo.cancelled(sends.map((s) => s.identifier));
  const seen = new Set<string>();
  const candidates = sends.filter((s) => {
    const extra = !counted.has(s.identifier) || seen.has(s.identifier);
    seen.add(s.identifier);
    return extra && !cancelled.has(s.identifier);
  });
  const picked = pickMatching(candidates, excess);
  if (!picked) {
    return [
      {
        ...base,
        action: "none",
        identifier: null,
        value: excess,
        outcome: "unresolved",
        detail: `hour ${from.toISOString()}: Stripe holds ${excess} Sparks more than the ledger, not from events Sparks sent in the last 24 h: cancel by hand`,
      },
    ];
  }
  const out: RepairAction[] = [];
  for (const s of picked) {
    const request = { type: "cancel", event_name: group.eventName, cancel: { identifier: s.identifier } };
    try {
      const adjustment = await stripe.billing.meterEventAdjustments.create({
        type: "cancel",
        event_name: group.eventName,
        cancel: { identifier: s.identifier },
      });
      await repo.recordAudit({
        operation: RECONCILE_CANCEL_OPERATION,
        identifier: s.identifier,
        meterEventId: null,
        request,
        response: { status: adjustment.status, value: s.value },
        statusCode: adjustment.lastResponse.statusCode,
        error: null,
      });
      out.push({
        ...base,
        action: "cancel",
        identifier: s.identifier,
        value: s.value,
        outcome: "repaired",
        detail: "a duplicate the ledger does not count: cancelled within Stripe's 24 h",
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      await repo.recordAudit({
        operation: RECONCILE_CANCEL_OPERATION,
        identifier: s.identifier,
        meterEventId: null,
        request,
        response: null,
        statusCode: null,
        error: message,
      });
      out.push({
        ...base,
        action: "cancel",
        identifier: s.identifier,
        value: s.value,
        outcome: "failed",
        detail: message,
      });
    }
  }
  return out;
}

function marginRows(
  deps: ReconcileDeps,
  sent: ReadonlyArray<{ customerId: string; tier: string; sent: bigint }>,
  costs: ReadonlyMap<string, Decimal>,
  floorPercent: number,
): MarginRow[] {
  const rateParsed = parseDecimal(deps.config.billing.sparkRateUsd);
  const rate = rateParsed.ok ? rateParsed.val : DECIMAL_ZERO;
  const billed = new Map<string, Decimal>();
  for (const s of sent) {
    // Free-tier Sparks are priced at $0 (SPEC §5): they cost, but bill nothing.
    const usd = s.tier === "free" ? DECIMAL_ZERO : multiplyDecimal(makeDecimal(s.sent, 0), rate);
    billed.set(s.customerId, addDecimal(billed.get(s.customerId) ?? DECIMAL_ZERO, usd));
  }
  const ids = [...new Set([...billed.keys(), ...costs.keys()])].sort();
  return ids.map((customerId) => {
    const b = billed.get(customerId) ?? DECIMAL_ZERO;
    const c = costs.get(customerId) ?? DECIMAL_ZERO;
    const percent =
      b.coefficient > 0n
        ? Number(divideToInteger(multiplyDecimal(subtractDecimal(b, c), makeDecimal(100n, 0)), b, "floor"))
        : null;
    return {
      customer_id: customerId,
      billed_usd: formatDecimal(b),
      langfuse_cost_usd: formatDecimal(c),
      margin_percent: percent,
      // Only billed customers are judged: a free customer's margin is negative by design.
      below_floor: percent !== null && percent < floorPercent,
    };
  });
}

/**
 * The read side of reconciliation from config alone (Langfuse reader, Stripe client), for
 * callers without the worker's adapters (the API, the CLI). Repairs need the worker's sender.
 */
export function reconcileSourcesFrom(config: AppConfig): {
  langfuse?: LangfuseReader;
  stripeClient?: Stripe;
} {
  const out: { langfuse?: LangfuseReader; stripeClient?: Stripe } = {};
  const lf = config.langfuse;
  if (lf.publicKey && lf.secretKey) {
    out.langfuse = createLangfuseReader({
      baseUrl: lf.baseUrl,
      publicKey: lf.publicKey,
      secretKey: lf.secretKey,
      api: lf.api,
    });
  }
  const { secretKey, apiBase } = config.stripe;
  if (secretKey) out.stripeClient = createStripeClient({ secretKey, apiBase });
  return out;
}

function stripeFor(deps: ReconcileDeps): Stripe | null {
  if (deps.stripeClient) return deps.stripeClient;
  const { secretKey, apiBase } = deps.config.stripe;
  return secretKey ? createStripeClient({ secretKey, apiBase }) : null;
}

/**
 * Reconciles one month, per customer and category: Langfuse (re-read) vs the ledger (exact and
 * sent Sparks) vs Stripe (meter event summaries), with the drift. With `repair`, ledger-vs-Stripe
 * gaps are repaired (see `repairGroup`) — Langfuse-vs-ledger drift is only reported: a sync of
 * the month fixes the ledger. Drift above the threshold and a margin below the floor raise
 * alerts (deduplicated per customer per day / per month).
 */
export async function reconcile(
  deps: ReconcileDeps,
  input: { month: string; repair: boolean },
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const parsed = parseMonth(input.month);
  if (!parsed.ok) throw new PermanentJobError(parsed.err.message);
  const month = parsed.val;
  const threshold = BigInt(options.driftThresholdSparks ?? DEFAULT_DRIFT_THRESHOLD_SPARKS);
  const now = clock(deps as WorkerDeps);
  const repo = new ReconciliationRepository(deps.database.db);
  const langfuse = await readLangfuse(deps, month);
  const occurred = langfuse ? await repo.occurredTotals(month, langfuse.traceIds) : [];
  const billed = await repo.billedTotals(month);
  const stripe = stripeFor(deps);
  const meters = stripe ? new StripeMeters(stripe) : null;
  const { start, end } = monthRange(month);

  const keys = new Map<string, { customerId: string; category: string }>();
  for (const k of [...(langfuse?.exact.keys() ?? [])]) {
    const [customerId = "", category = ""] = k.split("\u0000");
    keys.set(k, { customerId, category });
  }
  for (const r of [...occurred, ...billed]) keys.set(key(r.customerId, r.category), r);
  const occurredBy = new Map(occurred.map((r) => [key(r.customerId, r.category), r.exactNano]));
  const billedBy = new Map(billed.map((r) => [key(r.customerId, r.category), r]));

  const rows: ReconcileRow[] = [];
  const repairs: RepairAction[] = [];
  const alerts: string[] = [];
  const driftByCustomer = new Map<string, string[]>();
  for (const [k, { customerId, category }] of [...keys].sort(([a], [b]) => a.localeCompare(b))) {
    const b = billedBy.get(k);
    const ledgerOccurred = occurredBy.get(k) ?? 0n;
    const langfuseNano = langfuse ? (langfuse.exact.get(k) ?? 0n) : null;
    const sent = b?.sentSparks ?? 0n;
    let stripeSparks: bigint | null = null;
    const stripeCustomerId = b?.stripeCustomerId ?? null;
    if (meters && stripe && stripeCustomerId && isUsageCategory(category)) {
      const eventName = meterEventName(deps.config.stripe.meterPrefix, category);
      const meterId = await meters.meterId(eventName);
      if (meterId) {
        const total = await meters.summaries(meterId, stripeCustomerId, start, end, false);
        stripeSparks = BigInt([...total.values()].reduce((a, v) => a + v, 0));
        if (input.repair && stripeSparks !== sent) {
          repairs.push(
            ...(await repairGroup(
              deps,
              meters,
              stripe,
              meterId,
              { month, customerId, category, stripeCustomerId, eventName },
              options.settleMs ?? DEFAULT_SETTLE_MS,
            )),
          );
        }
      }
    }
    const lfDrift = langfuseNano === null ? null : langfuseNano - ledgerOccurred;
    const stDrift = stripeSparks === null ? null : stripeSparks - sent;
    rows.push({
      customer_id: customerId,
      category,
      stripe_customer_id: stripeCustomerId,
      langfuse_sparks: langfuseNano === null ? null : sparks(langfuseNano),
      ledger_occurred_sparks: sparks(ledgerOccurred),
      ledger_exact_sparks: sparks(b?.exactNano ?? 0n),
      ledger_late_sparks: sparks(b?.lateNano ?? 0n),
      ledger_sent_sparks: sent.toString(),
      stripe_sparks: stripeSparks === null ? null : stripeSparks.toString(),
      drift: {
        langfuse_vs_ledger: lfDrift === null ? null : sparks(lfDrift),
        ledger_vs_stripe: stDrift === null ? null : stDrift.toString(),
      },
    });
    const over: string[] = [];
    if (lfDrift !== null && (lfDrift < 0n ? -lfDrift : lfDrift) >= threshold * NANO_PER_SPARK)
      over.push(`${category}: Langfuse − ledger = ${sparks(lfDrift)} Sparks`);
    if (stDrift !== null && (stDrift < 0n ? -stDrift : stDrift) >= threshold)
      over.push(`${category}: Stripe − ledger sent = ${stDrift} Sparks`);
    if (over.length > 0)
      driftByCustomer.set(customerId, [...(driftByCustomer.get(customerId) ?? []), ...over]);
  }

  const margins = marginRows(
    deps,
    await repo.sentByCustomerTier(month),
    langfuse?.costByCustomer ?? new Map(),
    options.marginFloorPercent ?? DEFAULT_MARGIN_FLOOR_PERCENT,
  );
  if (deps.queues) {
    for (const [customerId, lines] of driftByCustomer) {
      const repaired = repairs.filter((r) => r.customer_id === customerId && r.outcome === "repaired").length;
      const dedupeKey = alertKeys.reconciliationDrift(month, customerId, now);
      await enqueueAlert(
        deps.queues,
        {
          kind: "reconciliation_drift",
          dedupeKey,
          customerId,
          title: `Reconciliation drift for ${customerId} in ${month}`,
          text: `${lines.join("; ")}${input.repair ? ` (${repaired} repair(s) made)` : ""}`,
          data: { month, lines },
        },
        deps.logger ? { logger: deps.logger } : {},
      );
      alerts.push(dedupeKey);
    }
    for (const m of margins.filter((r) => r.below_floor)) {
      const dedupeKey = alertKeys.marginBelowFloor(m.customer_id, month);
      await enqueueAlert(
        deps.queues,
        {
          kind: "margin_below_floor",
          dedupeKey,
          customerId: m.customer_id,
          title: `Margin of ${m.customer_id} below the floor in ${month}`,
          text: `billed $${m.billed_usd}, Langfuse cost $${m.langfuse_cost_usd}: margin ${m.margin_percent}%`,
          data: { month, ...m },
        },
        deps.logger ? { logger: deps.logger } : {},
      );
      alerts.push(dedupeKey);
    }
  }
  return {
    month,
    generated_at: now.toISOString(),
    repair: input.repair,
    sources: { langfuse: langfuse ? "read" : "not configured", stripe: stripe ? "read" : "not configured" },
    rows,
    repairs,
    margins,
    alerts,
  };
}
