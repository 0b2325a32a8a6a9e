import { executeRows } from "@sparks/db";
import {
  type CustomerFixture,
  createHarness,
  type Harness,
  type HarnessOptions,
  syncAndDrain,
} from "./pipeline.harness";

/**
 * Shared steps of the real-SDK tests (issue 15): a pipeline harness whose clock is past the
 * Langfuse lag (so what an SDK wrote a moment ago is in a closed window), a sync of the recent
 * window, and the ledger rows and Stripe meter totals to assert on.
 */
const MINUTE = 60_000;

export interface SdkHarness {
  h: Harness;
  customers: CustomerFixture[];
}

export async function createSdkHarness(
  refs: readonly string[],
  options: Pick<HarnessOptions, "langfuseApi"> = {},
): Promise<SdkHarness> {
  // The pipeline reads closed windows ending at now − LANGFUSE_LAG (15 min): run its clock 20
  // minutes ahead so traces written now are billable, while Langfuse and Stripe keep real time.
  const h = await createHarness({ ...options, now: () => new Date(Date.now() + 20 * MINUTE) });
  const customers = await h.addCustomers(refs);
  h.startWorkers();
  return { h, customers };
}

export async function syncRecent(h: Harness): Promise<void> {
  const now = Date.now();
  await syncAndDrain(h, { from: new Date(now - 60 * MINUTE), to: new Date(now + 2 * MINUTE) });
}

export type LedgerRow = {
  trace_id: string;
  usage_category: string;
  quantity: string | null;
  status: string;
  reason: string | null;
  customer_ref: string | null;
  cost_center: string;
};

export async function ledgerRows(h: Harness): Promise<LedgerRow[]> {
  return executeRows<LedgerRow>(
    h.deps.database.db,
    "select trace_id, usage_category, quantity::text as quantity, status, reason, customer_ref, cost_center from usage_items order by trace_id, usage_category",
  );
}

/** Whole Sparks Stripe was told for one customer and category. */
export function meterTotal(h: Harness, customer: CustomerFixture, category: string): number {
  return h.stripeEmulator.recording.meterTotal(customer.stripeId, `sparks_${category}`);
}

/** Waits until the emulator holds `count` observations (SDKs export asynchronously). */
export async function waitForObservations(h: Harness, count: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (h.langfuse.store.observationCount < count) {
    if (Date.now() > deadline)
      throw new Error(
        `the emulator holds ${h.langfuse.store.observationCount} observations, expected ${count}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Syncs the recent window and returns the ledger rows to assert on. */
export async function billRecent(h: Harness): Promise<LedgerRow[]> {
  await syncRecent(h);
  return ledgerRows(h);
}
