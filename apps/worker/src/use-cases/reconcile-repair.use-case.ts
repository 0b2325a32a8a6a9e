import {
  HOUR_SECONDS,
  hourlyGaps,
  hourOf,
  isOlderThanStripeLimit,
  monthRange,
  pickMatching,
  resendIdentifiers,
} from "@sparks/core";
import {
  RECONCILE_CANCEL_OPERATION,
  RECONCILE_REPAIR_OPERATION,
  ReconciliationRepository,
  type SentMeterEvent,
} from "@sparks/db";
import { MAX_IDENTIFIER_LENGTH, StripeCallError, type StripeMeterSummaryService } from "@sparks/stripe";
import type { WorkerDeps } from "../worker-deps";
import { clock } from "./pipeline-context";
import type { ReconcileDeps, RepairAction } from "./reconcile.types";

/** Stripe cancels an event only within 24 h of receipt; keep a margin for clock skew. */
const CANCEL_WINDOW_MS = 23.5 * 3_600_000;

export interface GroupContext {
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
export async function repairGroup(
  deps: ReconcileDeps,
  meters: StripeMeterSummaryService,
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
  const ledgerValueByHour = new Map<number, number>();
  for (const e of events) {
    const hour = hourOf(e.eventTimestamp);
    ledgerByHour.set(hour, [...(ledgerByHour.get(hour) ?? []), e]);
    ledgerValueByHour.set(hour, (ledgerValueByHour.get(hour) ?? 0) + e.value);
  }
  const actions: RepairAction[] = [];
  const base = { customer_id: group.customerId, category: group.category };
  for (const { hour, gap } of hourlyGaps(ledgerValueByHour, hourly)) {
    const inLedger = ledgerByHour.get(hour) ?? [];
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
      actions.push(...(await cancelExtra(repo, meters, group, hour, -gap, events, repairs, now)));
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
  const tries = resendIdentifiers(event.identifier, priorRepairs.length, MAX_IDENTIFIER_LENGTH);
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
  meters: StripeMeterSummaryService,
  group: GroupContext,
  hour: number,
  excess: number,
  events: readonly SentMeterEvent[],
  repairs: ReadonlyMap<string, string[]>,
  now: Date,
): Promise<RepairAction[]> {
  const base = { customer_id: group.customerId, category: group.category, original_identifier: null };
  const from = new Date(hour * 1000);
  const to = new Date((hour + HOUR_SECONDS) * 1000);
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
      const adjustment = await meters.cancelEvent(group.eventName, s.identifier);
      await repo.recordAudit({
        operation: RECONCILE_CANCEL_OPERATION,
        identifier: s.identifier,
        meterEventId: null,
        request,
        response: { status: adjustment.status, value: s.value },
        statusCode: adjustment.statusCode,
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
