/** Every state a ledger usage item can be in (the `usage_items.status` check constraint). */
export const USAGE_ITEM_STATUSES = [
  "pending",
  "sending",
  "sent",
  "failed",
  "quarantined",
  "unbillable",
  "discrepancy",
] as const;
export type UsageItemStatus = (typeof USAGE_ITEM_STATUSES)[number];

/**
 * The statuses whose exact Sparks count as the customer's billed usage of a month: what the
 * report, the invoice expectation, the usage counters and reconciliation sum. Quarantined
 * (not billable until fixed) and unbillable (older than Stripe's 35 days) items are excluded;
 * a failed item is still owed and will be retried, a discrepancy amends what was sent.
 * Defined once here: every SQL filter and every in-memory check uses this list.
 */
export const BILLED_STATUSES = [
  "pending",
  "sending",
  "sent",
  "failed",
  "discrepancy",
] as const satisfies readonly UsageItemStatus[];
export type BilledStatus = (typeof BILLED_STATUSES)[number];

export function isBilledStatus(status: string): status is BilledStatus {
  return (BILLED_STATUSES as readonly string[]).includes(status);
}

/** `('pending', 'sending', …)`: the billed statuses as an SQL list literal (fixed strings, no input). */
export function billedStatusesSqlList(): string {
  return `(${BILLED_STATUSES.map((s) => `'${s}'`).join(", ")})`;
}
