/**
 * The operator-facing id of a ledger error. Kept apart from the push use-case so the API side
 * (ledger entry) can name errors without loading the Stripe adapter.
 */
export function errorIdOf(itemId: number): string {
  return `ui_${itemId}`;
}
