import { type MonthKey, monthRange } from "@sparks/core";
import type { ErrorView } from "./errors.view";

/** Stripe's default invoice finalization grace period (REFERENCE: late usage lands until then). */
export const FINALIZATION_GRACE_MS = 3_600_000;
/** Less time than this before the invoice finalizes: fix it first. */
export const URGENT_WITHIN_MS = 72 * 3_600_000;

export type Urgency = "urgent" | "open" | "missed";

export interface RankedError extends ErrorView {
  /** When the invoice of the item's month finalizes: start of the next month + the grace period. */
  finalizesAt: Date;
  urgency: Urgency;
}

export function finalizesAt(month: MonthKey): Date {
  return new Date(monthRange(month).end.getTime() + FINALIZATION_GRACE_MS);
}

function urgencyOf(finalizes: Date, now: Date): Urgency {
  const left = finalizes.getTime() - now.getTime();
  if (left <= 0) return "missed";
  return left <= URGENT_WITHIN_MS ? "urgent" : "open";
}

// Missed invoices rank last: the money can no longer reach that invoice, while urgent and open
// ones still can (the operator's time goes where it still changes what is billed).
const ORDER: Record<Urgency, number> = { urgent: 0, open: 1, missed: 2 };

/**
 * Issue 6: the error list ranks by time left before the month's invoice finalizes (urgency
 * bucket, then the earliest deadline) and, within that, by money at risk (largest first).
 */
export function rankErrors(errors: readonly ErrorView[], now: Date): RankedError[] {
  const ranked = errors.map((e) => {
    const at = finalizesAt(e.month);
    return { ...e, finalizesAt: at, urgency: urgencyOf(at, now) };
  });
  return ranked.sort(
    (a, b) =>
      ORDER[a.urgency] - ORDER[b.urgency] ||
      a.finalizesAt.getTime() - b.finalizesAt.getTime() ||
      Number(b.amountAtRisk.sparks) - Number(a.amountAtRisk.sparks) ||
      a.itemId - b.itemId,
  );
}
