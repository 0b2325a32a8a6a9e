import type { UsageCategory } from "@sparks/core";
import { type SparksDb, UsageItemRepository, type UsageItemStatus } from "@sparks/db";

export interface SeedItem {
  traceId: string;
  category: UsageCategory;
  /** ISO time of the trace. */
  at: string;
  quantity: string;
  unit: string;
  /** Exact Sparks as a decimal string. */
  exact: string;
  status?: UsageItemStatus;
  costCenter?: string;
  reason?: string;
}

/** Writes ledger rows straight into usage_items, as the worker would have after a sync. */
export async function seedUsageItems(
  db: SparksDb,
  customer: { id: string; tier: string },
  items: SeedItem[],
): Promise<void> {
  await new UsageItemRepository(db).insertMany(
    items.map((i) => ({
      traceId: i.traceId,
      usageCategory: i.category,
      quantityRevision: 0,
      status: i.status ?? "pending",
      customerId: customer.id,
      customerRef: customer.id,
      month: i.at.slice(0, 7),
      occurredAt: new Date(i.at),
      quantity: i.quantity,
      unit: i.unit,
      rawValue: Number(i.quantity),
      exactSparks: i.exact,
      reason: i.reason ?? null,
      costCenter: i.costCenter ?? "default",
      tier: customer.tier,
      tierHint: null,
      syncRunId: null,
    })),
  );
}
