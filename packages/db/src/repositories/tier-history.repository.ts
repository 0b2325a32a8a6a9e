import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import {
  type CustomerTier,
  type TierChangeSource,
  type TierHistoryRow,
  tierHistory,
} from "../schema/customers.schema";
import { jsonParam, toDate } from "./row-values.util";

export interface TierSegment {
  customerId: string;
  tier: string;
  effectiveFrom: Date;
  effectiveTo: Date | null;
}

export interface TierChange {
  /** The segment that was open until the change; null for a customer's first tier. */
  closed: TierHistoryRow | null;
  opened: TierHistoryRow;
}

/**
 * Reads `tier_history` for many customers at once (the billing tier at a trace's time) and
 * records tier changes as back-to-back segments: `[effective_from, effective_to)`, the open
 * one with `effective_to` null.
 */
export class TierHistoryRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  /** The open segment (the tier in force now), or null when none was recorded. */
  async current(customerId: string): Promise<TierHistoryRow | null> {
    const rows = await this.db
      .select()
      .from(tierHistory)
      .where(and(eq(tierHistory.customerId, customerId), isNull(tierHistory.effectiveTo)))
      .orderBy(desc(tierHistory.effectiveFrom), desc(tierHistory.id))
      .limit(1);
    return rows[0] ?? null;
  }

  /** Every segment of one customer, oldest first. */
  async list(customerId: string): Promise<TierHistoryRow[]> {
    return this.db
      .select()
      .from(tierHistory)
      .where(eq(tierHistory.customerId, customerId))
      .orderBy(tierHistory.effectiveFrom, tierHistory.id);
  }

  /**
   * Closes the open segment(s) at `at` and opens one for `tier` from `at`. Run it in the same
   * transaction as the customers.tier update, so history and the current tier never disagree.
   * A segment never ends before it starts, even if `at` is earlier (clock skew between hosts).
   * A negotiated rate change is recorded the same way (same tier, another `rate`).
   */
  async changeTier(
    customerId: string,
    tier: CustomerTier,
    at: Date,
    source: TierChangeSource,
    /** The negotiated rate of the new segment (enterprise); null: the catalog rate. */
    rate: string | null = null,
  ): Promise<TierChange> {
    const closedRows = await this.db
      .update(tierHistory)
      .set({ effectiveTo: sql`greatest(${tierHistory.effectiveFrom}, ${at.toISOString()}::timestamptz)` })
      .where(and(eq(tierHistory.customerId, customerId), isNull(tierHistory.effectiveTo)))
      .returning();
    const closed =
      closedRows.sort((a, b) => b.effectiveFrom.getTime() - a.effectiveFrom.getTime())[0] ?? null;
    const from = closed !== null && closed.effectiveFrom > at ? closed.effectiveFrom : at;
    const [opened] = await this.db
      .insert(tierHistory)
      .values({ customerId, tier, effectiveFrom: from, source, rate })
      .returning();
    if (!opened) throw new Error("insert into tier_history returned no row");
    return { closed, opened };
  }

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
