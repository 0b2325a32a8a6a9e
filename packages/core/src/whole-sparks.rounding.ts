import { CoreError } from "./core.error";
import { NANO_PER_SPARK, wholeSparks } from "./sparks.money";

export interface SendState {
  /** The exact total (ledger sum, nano-Sparks) for one customer × month × category so far. */
  exactTotalNano: bigint;
  /** Whole Sparks already reported to Stripe for the same customer × month × category. */
  alreadySent: bigint;
}

/**
 * The exact-rounding rule of SPEC §1: Stripe only takes whole numbers, so what we have told it
 * in total must always be floor(exact total). Sending `floor(exact) − alreadySent` next keeps
 * the sent total ≤ exact and the drift < 1 Spark whatever the order or batching of items,
 * because the rule depends only on the running totals, not on the individual items.
 * Never negative: if more was already sent (a bug or a ledger correction), this returns 0n
 * and `overSent` reports by how much.
 */
export function nextWholeSparksToSend(state: SendState): bigint {
  assertNonNegative(state);
  const floorTotal = wholeSparks(state.exactTotalNano);
  return floorTotal > state.alreadySent ? floorTotal - state.alreadySent : 0n;
}

/** Whole Sparks sent beyond floor(exact total); 0n when Stripe was never over-told. */
export function overSent(state: SendState): bigint {
  assertNonNegative(state);
  const excess = state.alreadySent - wholeSparks(state.exactTotalNano);
  return excess > 0n ? excess : 0n;
}

/** Drift between the exact total and what was sent, in nano-Sparks (negative = over-sent). */
export function driftNano(state: SendState): bigint {
  return state.exactTotalNano - state.alreadySent * NANO_PER_SPARK;
}

export interface ExactItem {
  exactNano: bigint;
}

/**
 * Whole Sparks to send with each item, in send order, so that after every item the running
 * sent total equals floor(running exact total). `priorExactNano` is the exact total of items
 * sent before these (defaults to `alreadySent` whole Sparks, i.e. no carried fraction).
 */
export function allocateWholeSparks(
  items: readonly ExactItem[],
  alreadySent = 0n,
  priorExactNano: bigint = alreadySent * NANO_PER_SPARK,
): bigint[] {
  let exactTotalNano = priorExactNano;
  let sent = alreadySent;
  return items.map((item) => {
    if (item.exactNano < 0n) {
      throw new CoreError(
        "invalid_argument",
        `an item's exact Sparks must not be negative, got ${item.exactNano}n nano`,
      );
    }
    exactTotalNano += item.exactNano;
    const next = nextWholeSparksToSend({ exactTotalNano, alreadySent: sent });
    sent += next;
    return next;
  });
}

function assertNonNegative(state: SendState): void {
  if (state.exactTotalNano < 0n || state.alreadySent < 0n) {
    throw new CoreError("invalid_argument", "exact total and already-sent Sparks must not be negative");
  }
}
