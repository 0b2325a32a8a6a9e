import { CoreError } from "./core.error";
import { decimalOf } from "./decimal.math";
import { monthOf } from "./month.period";
import { roundUsdToCents, sparksToUsd } from "./sparks.money";

/**
 * Stripe accepts a meter event adjustment (cancel) only within 24 h of receiving the event.
 * Sparks stops an hour short, so a cancel decided at 23:59 cannot race the window's end and
 * leave a correction half-applied (the credit path takes over instead).
 */
export const CANCEL_WINDOW_MS = 23 * 60 * 60 * 1000;

/**
 * Splits items (already in send order, oldest first) into runs that one aggregated meter event
 * may carry: a run never crosses a price boundary (a tier change or a negotiated-rate change of
 * the customer) nor a calendar month, so an aggregate stamped with its own last item's time
 * is priced by Stripe at the price in force for all of its items.
 */
export function splitIntoPriceRuns<T>(
  items: readonly T[],
  timeOf: (item: T) => Date,
  boundaries: readonly Date[],
): T[][] {
  const sorted = [...boundaries].map((b) => b.getTime()).sort((a, b) => a - b);
  const keyOf = (at: Date): string => {
    const t = at.getTime();
    let segment = 0;
    while (segment < sorted.length && t >= (sorted[segment] as number)) segment++;
    return `${monthOf(at)}#${segment}`;
  };
  const runs: T[][] = [];
  let currentKey: string | null = null;
  for (const item of items) {
    const key = keyOf(timeOf(item));
    const last = runs[runs.length - 1];
    if (last !== undefined && key === currentKey) last.push(item);
    else {
      runs.push([item]);
      currentKey = key;
    }
  }
  return runs;
}

/** A meter event Stripe holds (sent, not cancelled) that carries some of the shrunk usage. */
export interface CancelCandidate {
  identifier: string;
  /** Whole Sparks the event carries now. */
  value: bigint;
  /** When Stripe received it; null when unknown (then it is never cancelled). */
  receivedAt: Date | null;
}

/** Where the month's usage of the segment stands in Stripe's invoicing. */
export type InvoiceStage = "open_period" | "draft" | "finalized";

export interface GiveBackInput {
  /** Whole Sparks Stripe holds beyond what the ledger now says (the group's over-sent amount). */
  overSparks: bigint;
  /** Events of the shrunk usage, any order; the newest are cancelled first. */
  candidates: readonly CancelCandidate[];
  stage: InvoiceStage;
  now: Date;
}

export type GiveBackStep =
  /** Cancel the event and send `resendValue` (may be 0: nothing is resent) under a new identifier. */
  | { kind: "cancel"; identifier: string; sparks: bigint; resendValue: bigint }
  /** A negative invoice item on the open draft, or pending for the period's coming invoice. */
  | { kind: "invoice_credit"; sparks: bigint }
  /** A credit note on the finalized invoice. */
  | { kind: "credit_note"; sparks: bigint };

/**
 * How a shrink is given back (pure decision): within Stripe's cancel window and while the
 * invoice is not final, cancel the newest events carrying the usage and resend their right
 * value; what cannot be taken back that way is credited on the draft (or the period's coming
 * invoice), or by a credit note once the invoice is final. Nothing when nothing was over-sent
 * (the shrink stayed within the rounding of whole Sparks).
 */
export function planGiveBack(input: GiveBackInput): GiveBackStep[] {
  if (input.overSparks < 0n) throw new CoreError("invalid_argument", "over-sent Sparks must not be negative");
  if (input.overSparks === 0n) return [];
  const steps: GiveBackStep[] = [];
  let remaining = input.overSparks;
  if (input.stage !== "finalized") {
    const now = input.now.getTime();
    const cancellable = input.candidates
      .filter((c) => c.value > 0n && c.receivedAt !== null && now - c.receivedAt.getTime() < CANCEL_WINDOW_MS)
      .sort(
        (a, b) =>
          (b.receivedAt as Date).getTime() - (a.receivedAt as Date).getTime() ||
          (a.identifier < b.identifier ? -1 : 1),
      );
    for (const c of cancellable) {
      if (remaining === 0n) break;
      const take = minBigint(c.value, remaining);
      steps.push({ kind: "cancel", identifier: c.identifier, sparks: take, resendValue: c.value - take });
      remaining -= take;
    }
  }
  if (remaining > 0n) {
    steps.push(
      input.stage === "finalized"
        ? { kind: "credit_note", sparks: remaining }
        : { kind: "invoice_credit", sparks: remaining },
    );
  }
  return steps;
}

/** `Math.min` takes no bigints. */
function minBigint(a: bigint, b: bigint): bigint {
  if (a < b) return a;
  return b;
}

export interface SegmentCreditInput {
  /** Whole Sparks Stripe bills on the segment's line (its price's usage), before any credit. */
  billedSparks: bigint;
  /** Whole Sparks already credited on that line by earlier corrections, and their cents. */
  creditedSparks: bigint;
  creditedCents: bigint;
  /** Whole Sparks to credit now. */
  sparks: bigint;
  /** USD per Spark of the segment's price ("0" for an unpriced tier). */
  rateUsd: string;
}

/**
 * The cents of a credit: the difference between the line Stripe bills and the line it would
 * bill for the remaining Sparks, each rounded to the cent as Stripe rounds a line (half-up),
 * less what earlier credits took. Crediting `round(sparks × rate)` instead could leave the
 * invoice a cent off the price of the Sparks actually owed.
 */
export function creditCents(input: SegmentCreditInput): bigint {
  const { billedSparks, creditedSparks, creditedCents: already, sparks } = input;
  if (sparks < 0n || creditedSparks < 0n || billedSparks < 0n) {
    throw new CoreError("invalid_argument", "credit amounts must not be negative");
  }
  if (creditedSparks + sparks > billedSparks) {
    throw new CoreError(
      "invalid_argument",
      `cannot credit ${creditedSparks + sparks} Sparks of a line billing ${billedSparks}`,
    );
  }
  const rate = decimalOf(input.rateUsd);
  const line = (whole: bigint) => roundUsdToCents(sparksToUsd(whole * 1_000_000_000n, rate));
  return line(billedSparks) - line(billedSparks - creditedSparks - sparks) - already;
}

export interface BilledLine {
  /** Whole Sparks Stripe bills on the line (sent events, not cancelled). */
  sparks: bigint;
  rateUsd: string;
}

export interface CorrectionTotals {
  billedCents: bigint;
  creditedCents: bigint;
  /** billed − credited: what Stripe charges for the usage, before the volume discount. */
  netCents: bigint;
}

/**
 * The report's billed / credited / net: each billed line rounded to the cent as Stripe rounds
 * it (half-up), less the cents the corrections credited (invoice items and credit notes).
 */
export function correctionTotals(
  lines: readonly BilledLine[],
  creditedCents: readonly bigint[],
): CorrectionTotals {
  let billed = 0n;
  for (const l of lines) {
    if (l.sparks < 0n) throw new CoreError("invalid_argument", "billed Sparks must not be negative");
    billed += roundUsdToCents(sparksToUsd(l.sparks * 1_000_000_000n, decimalOf(l.rateUsd)));
  }
  const credited = creditedCents.reduce((a, c) => a + c, 0n);
  return { billedCents: billed, creditedCents: credited, netCents: billed - credited };
}
