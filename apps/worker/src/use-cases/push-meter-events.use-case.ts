import {
  allocateWholeSparks,
  isOlderThanStripeLimit,
  isUsageCategory,
  splitIntoPriceRuns,
  TOO_OLD_REASON,
  type UsageCategory,
} from "@sparks/core";
import {
  CustomerRepository,
  type LedgerItem,
  MeterEventRepository,
  type MeterEventWrite,
  type StoredMeterEvent,
  StripeAuditRepository,
  TierHistoryRepository,
  type UsageGroup,
  UsageItemRepository,
  waitForAdvisoryLock,
} from "@sparks/db";
import { errorIdOf } from "@sparks/ledger";
import { itemsFailed, itemsSent } from "@sparks/observability";
import { PermanentJobError, RetryableJobError } from "@sparks/queues";
import {
  aggregateIdentifier,
  MAX_STREAM_EVENTS,
  METER_EVENT_OPERATION,
  METER_EVENT_STREAM_OPERATION,
  meterEventIdentifier,
  meterEventName,
  StripeCallError,
} from "@sparks/stripe";
import type { WorkerDeps } from "../worker-deps";
import { giveBackShrinks } from "./give-back-shrinks.use-case";
import { clock, sleep } from "./pipeline-context";

/** Seconds of backlog (at STRIPE_MAX_RPS) beyond which `auto` aggregates, unless configured. */
const AUTO_AGGREGATE_BACKLOG_SECONDS = 60;

export interface PushResult {
  group: UsageGroup;
  events: number;
  aggregatedEvents: number;
  duplicates: number;
  failed: string[];
  unbillable: number;
  /** Corrections (cancels, credits) of shrinks applied in Stripe by this job. */
  corrections: number;
}

function pushLockKey(group: UsageGroup): string {
  // Per customer + meter, not per month: Stripe allows one concurrent call per customer per meter.
  return `sparks:push:${group.customerId}:${group.category}`;
}

function byTimeThenId(a: LedgerItem, b: LedgerItem): number {
  return a.occurredAt.getTime() - b.occurredAt.getTime() || a.id - b.id;
}

async function shouldAggregate(
  deps: WorkerDeps,
  items: UsageItemRepository,
  pendingInGroup: number,
): Promise<boolean> {
  const mode = deps.config.stripe.aggregation;
  if (mode === "off" || pendingInGroup < 2) return false;
  if (mode === "always") return true;
  const backlog = await items.countPending();
  return (
    backlog / deps.config.stripe.maxRps >
    (deps.pipeline?.aggregateAfterSeconds ?? AUTO_AGGREGATE_BACKLOG_SECONDS)
  );
}

interface AllocatedBatch {
  /** The events just decided (pending, never sent). */
  events: StoredMeterEvent[];
  /** Nothing pending was left unallocated in the group when the batch was decided. */
  drained: boolean;
}

/**
 * Decides the next batch of meter events for a group and persists them BEFORE any Stripe call:
 * whole Sparks by the exact rule (core `allocateWholeSparks` over items in (occurred_at, id)
 * order, continuing from what the group already allocated), identifiers 1:1 per item, or one
 * aggregate whose items keep their own share and point to it. Returns the number of events.
 */
async function allocateBatch(
  deps: WorkerDeps,
  group: UsageGroup,
  category: UsageCategory,
  stripeCustomerId: string,
  result: PushResult,
): Promise<AllocatedBatch> {
  const opts = deps.pipeline ?? {};
  const now = clock(deps);
  return deps.database.db.transaction(async (tx): Promise<AllocatedBatch> => {
    const items = new UsageItemRepository(tx);
    const events = new MeterEventRepository(tx);
    const limit = Math.max(opts.pushBatch ?? 50, opts.aggregateBatch ?? 1_000);
    const locked = await items.lockPendingOfGroup(group, limit);
    if (locked.length === 0) return { events: [], drained: true };
    const tooOld = locked.filter((i) => isOlderThanStripeLimit(i.occurredAt, now));
    await items.markUnbillable(
      tooOld.map((i) => i.id),
      TOO_OLD_REASON,
    );
    result.unbillable += tooOld.length;
    let sendable = locked.filter((i) => !isOlderThanStripeLimit(i.occurredAt, now)).sort(byTimeThenId);
    // Fewer than asked for: these are all the group has (a later item comes with its own job).
    const lockedAll = locked.length < limit;
    if (sendable.length === 0) return { events: [], drained: lockedAll };
    const aggregate = await shouldAggregate(deps, items, sendable.length);
    const before = sendable.length;
    if (!aggregate) sendable = sendable.slice(0, opts.pushBatch ?? 50);
    const drained = lockedAll && sendable.length === before;
    const alreadySent = await events.alreadyAllocated(group);
    const priorExact = await items.attachedExactNano(group);
    const values = allocateWholeSparks(
      sendable.map((i) => ({ exactNano: i.exactNano })),
      alreadySent,
      priorExact,
    );
    const eventName = meterEventName(deps.config.stripe.meterPrefix, category);
    const base = {
      customerId: group.customerId,
      stripeCustomerId,
      usageCategory: category,
      eventName,
      month: group.month,
    };
    let writes: MeterEventWrite[];
    /** Index into `writes` of each item's event. */
    const eventOf: number[] = [];
    if (aggregate) {
      // One aggregate per price run: Stripe prices an event at the price in force at its
      // timestamp, so an aggregate must not reach across a tier change (or a month), and its
      // timestamp (its last item's) then lies inside the segment all its items belong to.
      const boundaries = (await new TierHistoryRepository(tx).list(group.customerId)).map(
        (h) => h.effectiveFrom,
      );
      const indexed = sendable.map((item, i) => ({ item, value: values[i] ?? 0n }));
      const runs = splitIntoPriceRuns(indexed, (x) => x.item.occurredAt, boundaries);
      writes = runs.map((run, r) => {
        for (let k = 0; k < run.length; k++) eventOf.push(r);
        const last = run[run.length - 1] as (typeof indexed)[number];
        return {
          ...base,
          identifier: aggregateIdentifier(
            category,
            run.map((x) => x.item.id),
          ),
          value: Number(run.reduce((a, x) => a + x.value, 0n)),
          eventTimestamp: last.item.occurredAt,
          aggregated: true,
          itemCount: run.length,
        };
      });
    } else {
      writes = sendable.map((item, i) => {
        eventOf.push(i);
        return {
          ...base,
          identifier: meterEventIdentifier({
            traceId: item.traceId,
            category,
            revision: item.quantityRevision,
          }),
          value: Number(values[i] ?? 0n),
          eventTimestamp: item.occurredAt,
          aggregated: false,
          itemCount: 1,
        };
      });
    }
    const ids = await events.insertMany(writes);
    await items.assign(
      sendable.map((item, i) => {
        const index = eventOf[i] as number;
        return {
          itemId: item.id,
          meterEventId: ids[index] as number,
          sentSparks: Number(values[i] ?? 0n),
          identifier: (writes[index] as MeterEventWrite).identifier,
        };
      }),
    );
    if (aggregate) result.aggregatedEvents += writes.length;
    return {
      events: writes.map((w, i) => ({ ...w, id: ids[i] as number, status: "pending" as const, attempts: 0 })),
      drained,
    };
  });
}

/** A meter event Stripe accepted, not yet recorded as sent (recorded per batch). */
interface Delivery {
  event: StoredMeterEvent;
  stripeResponse: { outcome: string; status: number | null; request_id: string | null };
}

/**
 * Records a batch of deliveries in one transaction: the events and their items `sent`. Until
 * then a crash leaves them pending, and the resend is harmless: the same identifier and value
 * go out again and Stripe answers duplicate, or (after Stripe's ~24 h memory) the audit log,
 * written per call before this, shows they were accepted (see `recoverAccepted`).
 */
async function recordDeliveries(deps: WorkerDeps, deliveries: readonly Delivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await deps.database.db.transaction(async (tx) => {
    await new MeterEventRepository(tx).markSentMany(
      deliveries.map((d) => ({ id: d.event.id, stripeResponse: d.stripeResponse })),
      clock(deps),
    );
    await new UsageItemRepository(tx).markSentByMeterEvents(deliveries.map((d) => d.event.id));
  });
  for (const d of deliveries) itemsSent.inc({ category: d.event.usageCategory }, d.event.itemCount);
}

/**
 * Pending events that an earlier push already got Stripe to accept (its audit row says so) but
 * did not live to record: recorded as sent now instead of being sent again.
 */
async function recoverAccepted(
  deps: WorkerDeps,
  pending: readonly StoredMeterEvent[],
): Promise<StoredMeterEvent[]> {
  const accepted = await new StripeAuditRepository(deps.database.db).acceptedIdentifiers(
    [METER_EVENT_OPERATION, METER_EVENT_STREAM_OPERATION],
    pending.map((e) => e.identifier),
  );
  if (accepted.size === 0) return [...pending];
  await recordDeliveries(
    deps,
    pending
      .filter((e) => accepted.has(e.identifier))
      .map((event) => ({
        event,
        stripeResponse: { outcome: "accepted_per_audit_log", status: null, request_id: null },
      })),
  );
  return pending.filter((e) => !accepted.has(e.identifier));
}

/** How a Stripe call is named in a permanent failure's reason and in a retry's message. */
interface CallNames {
  refused: string;
  retry: string;
}

/**
 * One Stripe call for `events` (a v1 event, or a v2 stream batch) under the in-job retry policy:
 * retryable failures are retried a few times with exponential backoff and full jitter
 * (honouring Retry-After), then handed to BullMQ's own backoff; the same identifiers and values
 * go out every time. A permanent failure marks the events and their items `failed` at once and
 * returns no deliveries; otherwise `call`'s deliveries (recorded by the caller per batch).
 */
async function callWithRetries(
  deps: WorkerDeps,
  events: readonly StoredMeterEvent[],
  names: CallNames,
  result: PushResult,
  call: () => Promise<Delivery[]>,
): Promise<Delivery[]> {
  const opts = deps.pipeline ?? {};
  const maxInline = opts.inlineRetries ?? 4;
  const base = opts.retryBaseMs ?? 200;
  const db = deps.database.db;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof StripeCallError)) throw error;
      if (!error.retryable) {
        const reason = `Stripe refused ${names.refused}: ${error.message}`;
        const itemIds = await db.transaction(async (tx) => {
          const ids: number[] = [];
          for (const event of events) {
            await new MeterEventRepository(tx).markFailed(event.id, reason);
            ids.push(...(await new UsageItemRepository(tx).markFailedByMeterEvent(event.id, reason)));
          }
          return ids;
        });
        itemsFailed.inc({ category: events[0]?.usageCategory ?? "unknown" }, itemIds.length);
        result.failed.push(`[${itemIds.map(errorIdOf).join(", ")}] ${reason}`);
        return [];
      }
      const repo = new MeterEventRepository(db);
      for (const event of events) await repo.recordAttemptError(event.id, error.message);
      if (attempt >= maxInline) {
        throw new RetryableJobError(`${names.retry}: ${error.message}`, {
          cause: error,
          ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
        });
      }
      const backoff = Math.random() * base * 2 ** attempt;
      await sleep(Math.min(Math.max(backoff, error.retryAfterMs ?? 0), 10_000));
    }
  }
}

/** The meter-event input of a decided event: always the persisted identifier and value. */
function meterEventInput(event: StoredMeterEvent) {
  return {
    eventName: event.eventName,
    stripeCustomerId: event.stripeCustomerId,
    value: BigInt(event.value),
    identifier: event.identifier,
    timestamp: event.eventTimestamp,
  };
}

/** One persisted meter event through v1; Stripe's duplicate answer counts as delivered. */
async function sendEvent(deps: WorkerDeps, event: StoredMeterEvent, result: PushResult): Promise<Delivery[]> {
  const sender = deps.stripe?.sender;
  if (!sender) throw new PermanentJobError("Stripe is not configured (STRIPE_SECRET_KEY)");
  const names = { refused: `meter event ${event.identifier}`, retry: event.identifier };
  return callWithRetries(deps, [event], names, result, async () => {
    const sent = await sender.send(meterEventInput(event));
    result.events++;
    if (sent.outcome === "duplicate") result.duplicates++;
    return [
      {
        event,
        stripeResponse: {
          outcome: sent.outcome,
          status: sent.statusCode,
          request_id: sent.requestId ?? null,
        },
      },
    ];
  });
}

/**
 * Value and identifier of a decided event are fixed; only where the customer lives in Stripe
 * may have changed (an operator re-linked it), which is what a retry after such a failure needs.
 */
async function relinked(
  deps: WorkerDeps,
  events: StoredMeterEvent[],
  stripeCustomerId: string | null,
): Promise<StoredMeterEvent[]> {
  if (stripeCustomerId === null) return events;
  const repo = new MeterEventRepository(deps.database.db);
  const out: StoredMeterEvent[] = [];
  for (const event of events) {
    if (event.stripeCustomerId === stripeCustomerId) out.push(event);
    else {
      await repo.setStripeCustomer(event.id, stripeCustomerId);
      out.push({ ...event, stripeCustomerId });
    }
  }
  return out;
}

/**
 * The v2 stream: up to 100 of a group's decided events in one call, under the same retry policy.
 * Stripe validates stream events later (its meter error reports, and reconciliation, catch what
 * it refuses then); a refusal now fails the whole call's events.
 */
async function sendStreamBatch(
  deps: WorkerDeps,
  batch: readonly StoredMeterEvent[],
  result: PushResult,
): Promise<Delivery[]> {
  const stream = deps.stripe?.stream;
  if (!stream) throw new PermanentJobError("the Stripe v2 stream is not configured");
  const names = {
    refused: `a stream call of ${batch.length} meter events`,
    retry: `stream call of ${batch.length} events`,
  };
  return callWithRetries(deps, batch, names, result, async () => {
    const sent = await stream.sendBatch(batch.map(meterEventInput));
    result.events += batch.length;
    return batch.map((event) => ({
      event,
      stripeResponse: { outcome: "sent", status: sent.statusCode, request_id: null },
    }));
  });
}

/**
 * Sends a group's decided events one after the other (Stripe allows one concurrent call per
 * customer + meter) and records what Stripe accepted in one transaction at the end, also when
 * a send fails midway, so nothing accepted is sent twice by the retry.
 */
async function sendDecided(
  deps: WorkerDeps,
  pending: readonly StoredMeterEvent[],
  stripeCustomerId: string | null,
  result: PushResult,
  fresh = false,
): Promise<void> {
  // Events decided by this very job cannot have reached Stripe yet: no audit lookup for them.
  const unsent = fresh ? [...pending] : await recoverAccepted(deps, pending);
  const toSend = await relinked(deps, unsent, stripeCustomerId);
  const deliveries: Delivery[] = [];
  try {
    if (deps.stripe?.stream) {
      for (let i = 0; i < toSend.length; i += MAX_STREAM_EVENTS) {
        deliveries.push(...(await sendStreamBatch(deps, toSend.slice(i, i + MAX_STREAM_EVENTS), result)));
      }
    } else {
      for (const event of toSend) deliveries.push(...(await sendEvent(deps, event, result)));
    }
  } finally {
    await recordDeliveries(deps, deliveries);
  }
}

/**
 * The push job of one (customer, category, month) group: holds the (customer, meter) lock,
 * first resends what was decided but not delivered (a crash or a flush may have interrupted
 * it), then allocates and sends batch after batch until the group has nothing pending.
 */
export async function pushMeterEvents(deps: WorkerDeps, group: UsageGroup): Promise<PushResult> {
  if (!isUsageCategory(group.category))
    throw new PermanentJobError(`unknown usage category ${group.category}`);
  const category = group.category;
  const result: PushResult = {
    group,
    events: 0,
    aggregatedEvents: 0,
    duplicates: 0,
    failed: [],
    unbillable: 0,
    corrections: 0,
  };
  const release = await waitForAdvisoryLock(
    deps.database,
    pushLockKey(group),
    deps.pipeline?.lockWaitMs ?? 30_000,
  );
  if (!release) throw new RetryableJobError(`push of ${pushLockKey(group)} is busy in another job`);
  try {
    const customer = await new CustomerRepository(deps.database.db).findById(group.customerId);
    if (!customer) throw new PermanentJobError(`customer ${group.customerId} does not exist`);
    const stripeCustomerId = customer.stripeCustomerId;
    // Shrinks first: a cancel's replacement event is then sent with the leftovers below.
    if (stripeCustomerId) {
      const given = await giveBackShrinks(deps, group, customer);
      result.corrections = given.applied;
      result.failed.push(...given.failed);
    }
    // First what an earlier job decided but did not deliver (a crash, a flush, a failure).
    const leftover = await new MeterEventRepository(deps.database.db).pendingOfGroup(group);
    if (leftover.length > 0) await sendDecided(deps, leftover, stripeCustomerId, result);
    for (;;) {
      if (!stripeCustomerId) {
        throw new PermanentJobError(
          `customer ${group.customerId} has no Stripe customer yet; usage stays pending`,
        );
      }
      const batch = await allocateBatch(deps, group, category, stripeCustomerId, result);
      // sendDecided returns only when every event is delivered or failed for good (a retryable
      // failure throws, and the job's retry starts again with the leftovers above).
      if (batch.events.length > 0) await sendDecided(deps, batch.events, stripeCustomerId, result, true);
      if (batch.drained) break;
    }
  } finally {
    await release();
  }
  if (result.failed.length > 0) {
    throw new PermanentJobError(
      `${result.failed.length} meter event(s) failed permanently: ${result.failed.join(" | ")}`,
    );
  }
  return result;
}
