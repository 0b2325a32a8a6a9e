import { billedStatusesSqlList } from "@sparks/core";
import { eq, sql } from "drizzle-orm";
import type { SparksDb, SparksTx } from "../database.types";
import { executeRows } from "../execute-rows";
import { type QuotaCapRow, type QuotaCapUnit, quotaCaps } from "../schema/quota-caps.schema";

/** What counts toward a month's quota: the same statuses the report and the counters count. */
const COUNTED = sql.raw(billedStatusesSqlList());

export interface QuotaCap {
  customerId: string;
  unit: QuotaCapUnit;
  /** Exact decimal string (USD or Sparks). */
  amount: string;
  soft: boolean;
  setBy: string | null;
  updatedAt: Date;
}

export interface LedgerMonthTotal {
  customerId: string;
  /** The exact Sparks total of the month as Postgres' numeric text (may carry decimals). */
  exact: string;
}

/** A month total with what the quota alerts need of its customer. */
export interface LedgerMonthQuotaTotal extends LedgerMonthTotal {
  tier: string;
  customQuota: number | null;
}

function toCap(row: QuotaCapRow): QuotaCap {
  return {
    customerId: row.customerId,
    unit: row.unit,
    amount: row.amount,
    soft: row.soft,
    setBy: row.setBy,
    updatedAt: row.updatedAt,
  };
}

/**
 * The Postgres side of quotas: admin-set spend caps (`quota_caps`) and the ledger's month
 * totals that the Redis quota counters are rebuilt from after Redis lost its data.
 */
export class QuotaRepository {
  constructor(private readonly db: SparksDb | SparksTx) {}

  async cap(customerId: string): Promise<QuotaCap | null> {
    const rows = await this.db.select().from(quotaCaps).where(eq(quotaCaps.customerId, customerId)).limit(1);
    return rows[0] ? toCap(rows[0]) : null;
  }

  /** Every cap (with its customer's tier), for the threshold alerts of the quota refresh. */
  async allCaps(): Promise<QuotaCap[]> {
    const rows = await this.db.select().from(quotaCaps);
    return rows.map(toCap);
  }

  /** Sets (or replaces) a customer's cap; one row per customer, so a repeat is idempotent. */
  async setCap(input: Omit<QuotaCap, "updatedAt">): Promise<QuotaCap> {
    const values = {
      customerId: input.customerId,
      unit: input.unit,
      amount: input.amount,
      soft: input.soft,
      setBy: input.setBy,
    };
    const rows = await this.db
      .insert(quotaCaps)
      .values(values)
      .onConflictDoUpdate({
        target: quotaCaps.customerId,
        set: {
          unit: values.unit,
          amount: values.amount,
          soft: values.soft,
          setBy: values.setBy,
          updatedAt: new Date(),
        },
      })
      .returning();
    const row = rows[0];
    if (!row) throw new Error("quota_caps upsert returned no row");
    return toCap(row);
  }

  /** Removes a cap; true when there was one. */
  async clearCap(customerId: string): Promise<boolean> {
    const rows = await this.db
      .delete(quotaCaps)
      .where(eq(quotaCaps.customerId, customerId))
      .returning({ id: quotaCaps.customerId });
    return rows.length > 0;
  }

  /** Every customer's exact ledger total of `month` (customers without usage are absent). */
  async monthTotals(month: string, customerId?: string): Promise<LedgerMonthTotal[]> {
    const rows = await executeRows<{ customer_id: string; exact: string }>(
      this.db,
      sql`select customer_id, coalesce(sum(exact_sparks), 0)::text as exact
            from usage_items
           where month = ${month} and status in ${COUNTED}
             ${customerId ? sql`and customer_id = ${customerId}` : sql``}
           group by customer_id`,
    );
    return rows.map((r) => ({ customerId: String(r.customer_id), exact: String(r.exact) }));
  }

  /** Month totals joined with each customer's tier and custom quota (the quota alerts' input). */
  async monthQuotaTotals(month: string, customerId?: string | null): Promise<LedgerMonthQuotaTotal[]> {
    const rows = await executeRows<{
      customer_id: string;
      exact: string;
      tier: string;
      custom_quota: unknown;
    }>(
      this.db,
      sql`select u.customer_id, coalesce(sum(u.exact_sparks), 0)::text as exact, c.tier, c.custom_quota
            from usage_items u join customers c on c.id = u.customer_id
           where u.month = ${month} and u.status in ${COUNTED}
             ${customerId ? sql`and u.customer_id = ${customerId}` : sql``}
           group by u.customer_id, c.tier, c.custom_quota`,
    );
    return rows.map((r) => ({
      customerId: String(r.customer_id),
      exact: String(r.exact),
      tier: String(r.tier),
      customQuota: r.custom_quota === null || r.custom_quota === undefined ? null : Number(r.custom_quota),
    }));
  }

  /** The months a sync run wrote usage items into (their counters need a refresh). */
  async monthsOfSyncRun(syncRunId: string): Promise<string[]> {
    const rows = await executeRows<{ month: string }>(
      this.db,
      sql`select distinct month from usage_items where sync_run_id = ${syncRunId}`,
    );
    return rows.map((r) => String(r.month));
  }
}
