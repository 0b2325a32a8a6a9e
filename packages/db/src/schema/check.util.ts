import { type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";

/**
 * `column IN ('a', 'b')` for a CHECK constraint. Values are inlined as literals because
 * drizzle-kit writes CHECK bodies verbatim into the migration (no bind parameters there);
 * they come from our own constant lists, never from input, and are quoted defensively anyway.
 */
export function oneOf(column: AnyPgColumn, values: readonly string[]): SQL {
  const literals = values.map((value) => `'${value.replaceAll("'", "''")}'`).join(", ");
  return sql`${column} in (${sql.raw(literals)})`;
}

/** A billing month is a UTC calendar month written `YYYY-MM`. */
export function isMonth(column: AnyPgColumn): SQL {
  return sql`${column} ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'`;
}

/** Money and counters never go below zero; a bug that tries is stopped by the database. */
export function nonNegative(column: AnyPgColumn): SQL {
  return sql`${column} >= 0`;
}
