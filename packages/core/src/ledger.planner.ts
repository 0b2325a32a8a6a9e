import {
  addDecimal,
  DECIMAL_ZERO,
  type Decimal,
  formatDecimal,
  parseDecimal,
  subtractDecimal,
} from "./decimal.math";
import type { LedgerEntry, LedgerEntryWrite } from "./ledger-item.types";
import { formatSparks, parseNanoSparks } from "./sparks.money";

export interface LedgerPlan {
  inserts: LedgerEntryWrite[];
  updates: Array<{ id: number; row: LedgerEntryWrite }>;
  deletes: number[];
  counts: { itemsNew: number; itemsUpdated: number; corrections: number; discrepancies: number };
}

/** Rows whose value is fixed: bound to a meter event, or a recorded discrepancy. */
export function isLocked(item: LedgerEntry): boolean {
  return (
    item.meterEventId !== null ||
    item.status === "sent" ||
    item.status === "sending" ||
    item.status === "discrepancy"
  );
}

function decimal(text: string | null): Decimal {
  if (text === null) return DECIMAL_ZERO;
  const parsed = parseDecimal(text);
  return parsed.ok ? parsed.val : DECIMAL_ZERO;
}

/**
 * Set by the database's late-usage trigger (migration 0002) when it moved a row out of a closed month.
 * A template literal because the purity test reads a quoted string after the word from as an import.
 */
const LATE_USAGE_REASON = `late usage from `;

function sameWrite(existing: LedgerEntry, row: LedgerEntryWrite): boolean {
  // A row the trigger re-filed under the next open month differs from the derivation in month,
  // time and reason by design; comparing those would rewrite it on every sync.
  const refiled = existing.reason?.startsWith(LATE_USAGE_REASON) === true && row.status === "pending";
  return (
    existing.status === row.status &&
    existing.customerId === row.customerId &&
    existing.customerRef === row.customerRef &&
    (refiled || existing.month === row.month) &&
    (refiled || existing.occurredAt.getTime() === row.occurredAt.getTime()) &&
    (existing.quantity === null
      ? row.quantity === null
      : row.quantity !== null &&
        formatDecimal(decimal(existing.quantity)) === formatDecimal(decimal(row.quantity))) &&
    existing.exactNano === parseNanoSparks(row.exactSparks) &&
    (refiled || existing.reason === row.reason) &&
    existing.costCenter === row.costCenter &&
    existing.tier === row.tier &&
    existing.tierHint === row.tierHint &&
    JSON.stringify(existing.rawValue ?? null) === JSON.stringify(row.rawValue ?? null)
  );
}

/** `{ ...row, quantityRevision }` written out: a spread plus a property is slow on Node 20. */
function withRevision(row: LedgerEntryWrite, quantityRevision: number): LedgerEntryWrite {
  return {
    traceId: row.traceId,
    usageCategory: row.usageCategory,
    quantityRevision,
    status: row.status,
    customerId: row.customerId,
    customerRef: row.customerRef,
    month: row.month,
    occurredAt: row.occurredAt,
    quantity: row.quantity,
    unit: row.unit,
    rawValue: row.rawValue,
    exactSparks: row.exactSparks,
    reason: row.reason,
    costCenter: row.costCenter,
    tier: row.tier,
    tierHint: row.tierHint,
    syncRunId: row.syncRunId,
  };
}

function keyOf(traceId: string, category: string): string {
  return `${traceId}\u0000${category}`;
}

/**
 * Decides the ledger writes for re-derived traces (the design's ledger rules):
 * - nothing locked yet → revision 0 follows the latest Langfuse state (insert/update/delete);
 * - something already sent → the sent rows stay untouched and one open correction row carries
 *   the delta against everything locked: positive → `pending` (sent as `-r<n>`), negative →
 *   `discrepancy` (Stripe takes no negative values); a zero delta removes an open correction.
 * `traceIds` are the traces re-derived; their existing rows not in `desired` disappear only
 * while unsent.
 */
export function planLedger(
  existing: readonly LedgerEntry[],
  desired: readonly LedgerEntryWrite[],
): LedgerPlan {
  const plan: LedgerPlan = {
    inserts: [],
    updates: [],
    deletes: [],
    counts: { itemsNew: 0, itemsUpdated: 0, corrections: 0, discrepancies: 0 },
  };
  const existingByKey = new Map<string, LedgerEntry[]>();
  for (const item of existing) {
    const key = keyOf(item.traceId, item.usageCategory);
    const list = existingByKey.get(key);
    if (list) list.push(item);
    else existingByKey.set(key, [item]);
  }
  const desiredByKey = new Map<string, LedgerEntryWrite>();
  for (const row of desired) desiredByKey.set(keyOf(row.traceId, row.usageCategory), row);

  for (const key of new Set([...existingByKey.keys(), ...desiredByKey.keys()])) {
    const rows = (existingByKey.get(key) ?? []).sort((a, b) => a.quantityRevision - b.quantityRevision);
    const want = desiredByKey.get(key);
    const locked = rows.filter(isLocked);
    const open = rows.filter((r) => !isLocked(r));
    if (locked.length === 0) {
      const [first, ...extra] = open;
      plan.deletes.push(...extra.map((r) => r.id));
      if (want === undefined) {
        if (first) plan.deletes.push(first.id);
      } else if (first === undefined) {
        plan.inserts.push(want);
        plan.counts.itemsNew++;
      } else if (!sameWrite(first, want)) {
        // Revision 0 keeps its revision number (an object literal, not a spread: see desiredItems).
        plan.updates.push({ id: first.id, row: withRevision(want, first.quantityRevision) });
        plan.counts.itemsUpdated++;
      }
      continue;
    }
    planCorrection(plan, locked, open, want);
  }
  return plan;
}

function planCorrection(
  plan: LedgerPlan,
  locked: readonly LedgerEntry[],
  open: readonly LedgerEntry[],
  want: LedgerEntryWrite | undefined,
): void {
  const original = locked[0] as LedgerEntry;
  let accountedNano = 0n;
  let accountedQty = DECIMAL_ZERO;
  for (const r of locked) {
    accountedNano += r.exactNano;
    accountedQty = addDecimal(accountedQty, decimal(r.quantity));
  }
  const wantNano = want && want.status !== "quarantined" ? parseNanoSparks(want.exactSparks) : 0n;
  const wantQty = want && want.status !== "quarantined" ? decimal(want.quantity) : DECIMAL_ZERO;
  const deltaNano = wantNano - accountedNano;
  const deltaQty = subtractDecimal(wantQty, accountedQty);
  const [current, ...extra] = open;
  plan.deletes.push(...extra.map((r) => r.id));
  if (deltaNano === 0n && deltaQty.coefficient === 0n) {
    if (current) plan.deletes.push(current.id);
    return;
  }
  const revision = current?.quantityRevision ?? Math.max(...locked.map((r) => r.quantityRevision)) + 1;
  const shrink = deltaNano < 0n || (deltaNano === 0n && deltaQty.coefficient < 0n);
  const base = want ?? {
    traceId: original.traceId,
    usageCategory: original.usageCategory,
    customerRef: original.customerRef,
    costCenter: original.costCenter,
    tier: original.tier,
    tierHint: original.tierHint,
    unit: original.unit,
    syncRunId: null,
  };
  const row: LedgerEntryWrite = {
    traceId: original.traceId,
    usageCategory: original.usageCategory,
    quantityRevision: revision,
    // A correction belongs to the original's month and customer: it amends that group.
    customerId: original.customerId,
    customerRef: base.customerRef,
    month: original.month,
    occurredAt: original.occurredAt,
    costCenter: base.costCenter,
    tier: original.tier,
    tierHint: base.tierHint,
    unit: base.unit ?? original.unit,
    rawValue: null,
    quantity: formatDecimal(deltaQty),
    exactSparks: formatSparks(deltaNano),
    syncRunId: base.syncRunId,
    status: shrink ? "discrepancy" : want?.status === "unbillable" ? "unbillable" : "pending",
    reason: shrink
      ? `quantity shrank after it was sent: sent ${formatDecimal(accountedQty)}, now ${formatDecimal(wantQty)}${
          want?.status === "quarantined"
            ? ` (${want.reason ?? "quarantined"})`
            : want
              ? ""
              : " (no longer derived)"
        }; Stripe meter events cannot be negative`
      : want?.status === "unbillable"
        ? want.reason
        : null,
  };
  if (current === undefined) {
    plan.inserts.push(row);
    plan.counts.corrections++;
    if (shrink) plan.counts.discrepancies++;
  } else if (!sameWrite(current, row)) {
    plan.updates.push({ id: current.id, row });
    plan.counts.corrections++;
    if (shrink) plan.counts.discrepancies++;
  }
}
