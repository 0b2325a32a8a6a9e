import type { SQLWrapper } from "drizzle-orm";
import type { SparksDb, SparksTx } from "./database.types";
import { UnexpectedQueryResultError } from "./unexpected-query-result.error";

/**
 * Runs raw SQL and returns its rows on either driver. `db.execute` is typed `unknown` on
 * SparksDb because the drivers disagree: postgres-js resolves to the row array itself,
 * PGlite to `{ rows }`. Rows are not validated: `TRow` is the caller's claim about its SQL,
 * and numeric/bigint columns arrive as strings or numbers depending on the driver.
 */
export async function executeRows<TRow extends Record<string, unknown>>(
  db: SparksDb | SparksTx,
  query: SQLWrapper | string,
): Promise<TRow[]> {
  const result: unknown = await db.execute<TRow>(query);
  if (Array.isArray(result)) return [...result] as TRow[];
  if (typeof result === "object" && result !== null && "rows" in result && Array.isArray(result.rows)) {
    return result.rows as TRow[];
  }
  throw new UnexpectedQueryResultError("raw query returned neither a row array nor { rows }");
}
