import { createHash } from "node:crypto";
import {
  type BillingConfig,
  creditCents,
  type GiveBackStep,
  isTierName,
  planGiveBack,
  tierRateUsd,
  wholeSparks,
} from "@sparks/core";
import {
  type CorrectionWrite,
  type CustomerRow,
  MeterEventRepository,
  type OpenShrink,
  type StoredCorrection,
  UsageCorrectionRepository,
  type UsageGroup,
  UsageItemRepository,
} from "@sparks/db";
import { RetryableJobError } from "@sparks/queues";
import { type InvoiceStageOf, StripeCallError, type StripeCorrectionService } from "@sparks/stripe";
import type { WorkerDeps } from "../worker-deps";
import { clock } from "./pipeline-context";

export interface GiveBackResult {
  decided: number;
  applied: number;
  /** Corrections Stripe refused for good (their shrinks are re-opened and decided again). */
  failed: string[];
}

function sha40(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 40);
}

/** USD per Spark of a tier's price for this customer ("0" for an unpriced tier such as free). */
function customerTierRateUsd(config: BillingConfig, customer: CustomerRow, tier: string | null): string {
  return tierRateUsd(
    config,
    tier !== null && isTierName(tier) ? tier : customer.tier,
    customer.negotiatedRate,
  );
}

/** The tier the largest part of the shrink was billed at: the segment the credit is priced on. */
function tierOf(shrinks: readonly OpenShrink[]): string | null {
  const byTier = new Map<string | null, bigint>();
  for (const s of shrinks) byTier.set(s.tier, (byTier.get(s.tier) ?? 0n) - s.exactNano);
  let best: string | null = shrinks[0]?.tier ?? null;
  let most = -1n;
  for (const [tier, nano] of byTier) if (nano > most) [best, most] = [tier, nano];
  return best;
}

/**
 * Decides, in one transaction, how the group's open shrinks are given back and stores each step
 * (pending) with a key derived from the shrink rows it covers; the rows are marked corrected in
 * the same transaction. The decision is core's `planGiveBack` on the whole Sparks over-billed:
 * what Stripe is told (events not cancelled, less credits) minus floor(exact total now).
 */
async function decide(
  deps: WorkerDeps,
  group: UsageGroup,
  customer: CustomerRow,
  corrections: StripeCorrectionService,
): Promise<number> {
  const db = deps.database.db;
  const probe = await new UsageCorrectionRepository(db).lockOpenShrinks(group);
  if (probe.length === 0) return 0;
  const first = probe[0] as OpenShrink;
  // Stripe is asked outside the transaction (no row lock held across a network call); the
  // stage only decides cancel vs credit vs credit note, and a stale answer is caught by Stripe
  // refusing the step, which re-opens the shrink for a new decision.
  const stage: InvoiceStageOf =
    customer.stripeCustomerId === null
      ? { stage: "open_period", invoiceId: null }
      : await corrections.invoiceStageAt(
          customer.stripeCustomerId,
          customer.stripeSubscriptionId,
          first.occurredAt,
        );
  const now = clock(deps);
  return db.transaction(async (tx) => {
    const repo = new UsageCorrectionRepository(tx);
    const shrinks = await repo.lockOpenShrinks(group);
    if (shrinks.length === 0) return 0;
    const allocated = await new MeterEventRepository(tx).alreadyAllocated(group);
    const prior = await new UsageItemRepository(tx).attachedExactNano(group);
    const openNano = shrinks.reduce((a, s) => a + s.exactNano, 0n);
    const target = wholeSparks(prior + openNano);
    const over = allocated > target ? allocated - (target < 0n ? 0n : target) : 0n;
    const traceIds = [...new Set(shrinks.map((s) => s.traceId))];
    const itemIds = shrinks.map((s) => s.id);
    const events = await repo.sentEventsOfTraces(group, traceIds);
    const steps = planGiveBack({
      overSparks: over,
      candidates: events.map((e) => ({
        identifier: e.identifier,
        value: BigInt(e.value),
        receivedAt: e.sentAt,
      })),
      stage: stage.stage,
      now,
    });
    const tier = tierOf(shrinks);
    const rate = customerTierRateUsd(deps.config.billing, customer, tier);
    const billed = (await repo.billedSparksByTier(group)).get(tier) ?? 0n;
    const credited = (await repo.creditsByTier(group)).find((c) => c.tier === tier);
    let creditedSparks = credited?.sparks ?? 0n;
    let creditedCentsSoFar = credited?.cents ?? 0n;
    const base = `sparks-corr-${sha40(`${group.customerId}|${group.category}|${group.month}|${itemIds.join(",")}`)}`;
    // A re-decision of the same rows (an earlier step was refused for good) gets its own keys.
    const round = await repo.countWithKeyPrefix(base);
    for (const [i, step] of steps.entries()) {
      const key = `${base}/${round}-${i}`;
      const row: CorrectionWrite = {
        key,
        customerId: group.customerId,
        usageCategory: group.category,
        month: group.month,
        kind: step.kind,
        sparks: Number(step.sparks),
        cents: 0,
        tier,
        traceIds,
        itemIds,
        cancelledMeterEventId: null,
        resendValue: null,
        replacementIdentifier: null,
        stripeInvoiceId: null,
      };
      if (step.kind === "cancel") {
        const event = events.find((e) => e.identifier === step.identifier);
        row.cancelledMeterEventId = event?.id ?? null;
        row.resendValue = Number(step.resendValue);
        // A new identifier: Stripe remembers the cancelled one, so the right value needs its own.
        row.replacementIdentifier = `fix-${group.category}-${sha40(key)}`;
      } else {
        const take = stepSparksWithinLine(step, billed, creditedSparks);
        const cents = creditCents({
          billedSparks: billed,
          creditedSparks,
          creditedCents: creditedCentsSoFar,
          sparks: take,
          rateUsd: rate,
        });
        row.cents = Number(cents);
        row.stripeInvoiceId = stage.invoiceId;
        creditedSparks += take;
        creditedCentsSoFar += cents;
      }
      await repo.insert(row);
    }
    await repo.markItemsCorrected(itemIds, now);
    return steps.length;
  });
}

/** A credit never takes more off a line than the line bills (the rest is a rounding carry). */
function stepSparksWithinLine(step: GiveBackStep, billed: bigint, credited: bigint): bigint {
  const room = billed - credited;
  return step.sparks > room ? (room > 0n ? room : 0n) : step.sparks;
}

/** Runs one stored correction's Stripe call, then records its outcome. */
async function apply(
  deps: WorkerDeps,
  correction: StoredCorrection,
  customer: CustomerRow,
  corrections: StripeCorrectionService,
): Promise<void> {
  const db = deps.database.db;
  const now = clock(deps);
  const description = `Sparks correction ${correction.month}: ${correction.sparks} ${correction.usageCategory} Sparks given back (${correction.traceIds.length} trace(s))`;
  const metadata = {
    sparks_month: correction.month,
    sparks_category: correction.usageCategory,
    sparks_sparks: String(correction.sparks),
  };
  if (correction.kind === "cancel") {
    const cancelled =
      correction.cancelledMeterEventId === null
        ? null
        : await new MeterEventRepository(db).findById(correction.cancelledMeterEventId);
    // Not retryable: the correction is marked failed and its shrink decided again (as a credit).
    if (cancelled === null)
      throw new StripeCallError(`correction ${correction.key}: its meter event is gone`, {
        retryable: false,
      });
    await corrections.cancelMeterEvent(cancelled.eventName, cancelled.identifier, correction.key);
    await db.transaction(async (tx) => {
      const events = new MeterEventRepository(tx);
      await events.markCancelled(cancelled.id);
      const resend = correction.resendValue ?? 0;
      if (resend > 0 && correction.replacementIdentifier !== null) {
        const [id] = await events.insertMany([
          {
            identifier: correction.replacementIdentifier,
            customerId: cancelled.customerId,
            stripeCustomerId: cancelled.stripeCustomerId,
            usageCategory: cancelled.usageCategory,
            eventName: cancelled.eventName,
            month: cancelled.month,
            value: resend,
            // The cancelled event's own time: the replacement bills the same price segment.
            eventTimestamp: cancelled.eventTimestamp,
            aggregated: cancelled.aggregated,
            itemCount: cancelled.itemCount,
          },
        ]);
        await new UsageCorrectionRepository(tx).repointItems(
          cancelled.id,
          id as number,
          correction.replacementIdentifier,
        );
      }
      await new UsageCorrectionRepository(tx).markDone(correction.id, cancelled.identifier, now);
    });
    return;
  }
  let objectId: string | null = null;
  if (correction.cents > 0 && customer.stripeCustomerId !== null) {
    objectId =
      correction.kind === "credit_note" && correction.stripeInvoiceId !== null
        ? await corrections.creditNote({
            key: correction.key,
            invoiceId: correction.stripeInvoiceId,
            cents: BigInt(correction.cents),
            description,
            metadata,
          })
        : await corrections.credit({
            key: correction.key,
            stripeCustomerId: customer.stripeCustomerId,
            subscriptionId: customer.stripeSubscriptionId,
            invoiceId: correction.stripeInvoiceId,
            cents: BigInt(correction.cents),
            description,
            metadata,
          });
  }
  // 0 cents (an unpriced tier): nothing to bill back, the ledger still records the Sparks.
  await new UsageCorrectionRepository(db).markDone(correction.id, objectId, now);
}

/**
 * Gives the group's shrinks back (a quantity lowered after it was sent): decides the steps,
 * then applies every pending step of the group, including those a crashed job left. Runs
 * under the push job's (customer, meter) lock, before the group's pending events are sent,
 * so a cancel's replacement event goes out with them.
 */
export async function giveBackShrinks(
  deps: WorkerDeps,
  group: UsageGroup,
  customer: CustomerRow,
): Promise<GiveBackResult> {
  const result: GiveBackResult = { decided: 0, applied: 0, failed: [] };
  const corrections = deps.stripe?.corrections;
  if (!corrections) return result;
  result.decided = await decide(deps, group, customer, corrections);
  const repo = new UsageCorrectionRepository(deps.database.db);
  for (const correction of await repo.pendingOfGroup(group)) {
    try {
      await apply(deps, correction, customer, corrections);
      result.applied++;
    } catch (error) {
      if (!(error instanceof StripeCallError) || error.retryable) {
        await repo.recordError(correction.id, String((error as Error).message ?? error), false);
        throw new RetryableJobError(`correction ${correction.key}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      // Refused for good (e.g. the cancel window closed meanwhile): decided again next time.
      await deps.database.db.transaction(async (tx) => {
        const r = new UsageCorrectionRepository(tx);
        await r.recordError(correction.id, error.message, true);
        await r.reopenItems(correction.itemIds);
      });
      result.failed.push(`${correction.key}: ${error.message}`);
    }
  }
  return result;
}
