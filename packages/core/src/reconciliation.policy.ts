import {
  addDecimal,
  DECIMAL_ZERO,
  type Decimal,
  divideToInteger,
  formatDecimal,
  makeDecimal,
  multiplyDecimal,
  parseDecimal,
  subtractDecimal,
} from "./decimal.math";
import { formatSparks, NANO_PER_SPARK } from "./sparks.money";

/**
 * Pure rules of `sparks reconcile`: which events make up a gap, the repair identifiers tried,
 * the margin per customer, and which drifts are worth an alert. The worker's use-case reads the
 * sources and applies these.
 */

/** A subset of `candidates` whose values sum to `target`: one exact match first, else greedy (largest first). */
export function pickMatching<T extends { value: number }>(
  candidates: readonly T[],
  target: number,
): T[] | null {
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

/** `<original>-fix<n>`, the original cut so the whole stays within `maxLength` (Stripe's identifier limit). */
export function fixIdentifier(original: string, n: number, maxLength: number): string {
  const suffix = `-fix${n}`;
  return original.length + suffix.length <= maxLength
    ? `${original}${suffix}`
    : `${original.slice(0, maxLength - suffix.length)}${suffix}`;
}

/**
 * Identifiers a resend tries, in order: the event's own identifier (Stripe takes it if it never
 * got it) and then the first repair id — or, once repaired before, only the next repair id.
 */
export function resendIdentifiers(original: string, priorRepairs: number, maxLength: number): string[] {
  return priorRepairs === 0
    ? [original, fixIdentifier(original, 1, maxLength)]
    : [fixIdentifier(original, priorRepairs + 1, maxLength)];
}

export const HOUR_SECONDS = 3_600;

/** The hour (Unix seconds) an instant falls in: Stripe's `value_grouping_window=hour` buckets. */
export function hourOf(at: Date): number {
  return Math.floor(at.getTime() / 1000 / HOUR_SECONDS) * HOUR_SECONDS;
}

/** Per hour (ascending) where they differ: ledger − Stripe whole Sparks. */
export function hourlyGaps(
  ledgerByHour: ReadonlyMap<number, number>,
  stripeByHour: ReadonlyMap<number, number>,
): Array<{ hour: number; gap: number }> {
  const hours = [...new Set([...ledgerByHour.keys(), ...stripeByHour.keys()])].sort((a, b) => a - b);
  return hours
    .map((hour) => ({ hour, gap: (ledgerByHour.get(hour) ?? 0) - (stripeByHour.get(hour) ?? 0) }))
    .filter((g) => g.gap !== 0);
}

export interface MarginRow {
  customer_id: string;
  billed_usd: string;
  langfuse_cost_usd: string;
  /** (billed − cost) / billed in percent, floored; null when nothing was billed. */
  margin_percent: number | null;
  below_floor: boolean;
}

/**
 * Margin per customer: whole Sparks sent × the Spark rate (free-tier Sparks bill $0, SPEC §5)
 * against Langfuse's cost. Only billed customers are judged against the floor: a free
 * customer's margin is negative by design.
 */
export function marginRows(
  sparkRateUsd: string,
  sent: ReadonlyArray<{ customerId: string; tier: string; sent: bigint }>,
  costs: ReadonlyMap<string, Decimal>,
  floorPercent: number,
): MarginRow[] {
  const rateParsed = parseDecimal(sparkRateUsd);
  const rate = rateParsed.ok ? rateParsed.val : DECIMAL_ZERO;
  const billed = new Map<string, Decimal>();
  for (const s of sent) {
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
      below_floor: percent !== null && percent < floorPercent,
    };
  });
}

/**
 * The drift lines of one customer/category worth an alert: |Langfuse − ledger| (nano-Sparks)
 * or |Stripe − ledger sent| (whole Sparks) at or above `thresholdSparks`.
 */
export function driftAlertLines(
  category: string,
  langfuseVsLedgerNano: bigint | null,
  stripeVsSentSparks: bigint | null,
  thresholdSparks: bigint,
): string[] {
  const abs = (v: bigint) => (v < 0n ? -v : v);
  const out: string[] = [];
  if (langfuseVsLedgerNano !== null && abs(langfuseVsLedgerNano) >= thresholdSparks * NANO_PER_SPARK)
    out.push(`${category}: Langfuse − ledger = ${formatSparks(langfuseVsLedgerNano)} Sparks`);
  if (stripeVsSentSparks !== null && abs(stripeVsSentSparks) >= thresholdSparks)
    out.push(`${category}: Stripe − ledger sent = ${stripeVsSentSparks} Sparks`);
  return out;
}
