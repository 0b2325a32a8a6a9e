import { sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import { jsonParam, toDate } from "./row-values.util";

export interface TierSegment {
  customerId: string;
  tier: string;
  effectiveFrom: Date;
  effectiveTo: Date | null;
}

/** Reads `tier_history` for many customers at once (the billing tier at a trace's time). */
export class TierHistoryRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  async segmentsFor(customerIds: readonly string[]): Promise<Map<string, TierSegment[]>> {
    const out = new Map<string, TierSegment[]>();
    if (customerIds.length === 0) return out;
    const rows = await executeRows<Record<string, unknown>>(
      this.db,
      sql`select customer_id, tier, effective_from, effective_to from tier_history
          where customer_id in (select jsonb_array_elements_text(${jsonParam(customerIds)}::jsonb))
          order by customer_id, effective_from`,
    );
    for (const r of rows) {
      const segment: TierSegment = {
        customerId: String(r.customer_id),
        tier: String(r.tier),
        effectiveFrom: toDate(r.effective_from),
        effectiveTo: r.effective_to === null ? null : toDate(r.effective_to),
      };
      const list = out.get(segment.customerId);
      if (list) list.push(segment);
      else out.set(segment.customerId, [segment]);
    }
    return out;
  }
}
