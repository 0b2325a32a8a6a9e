import type { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import type { Sql } from "postgres";
import type * as schema from "./schema";

export type SparksSchema = typeof schema;

/**
 * The drizzle handle repositories take. Both drivers' databases are `PgDatabase`s over the
 * same schema; typing repositories against this base keeps them driver-agnostic.
 */
export type SparksDb = PgDatabase<PgQueryResultHKT, SparksSchema>;

/** The handle inside `db.transaction(async (tx) => ...)`; also accepted where a SparksDb is. */
export type SparksTx = PgTransaction<
  PgQueryResultHKT,
  SparksSchema,
  ExtractTablesWithRelations<SparksSchema>
>;

export type DatabaseKind = "postgres" | "pglite";

/** Structurally compatible with a pino logger, so callers pass theirs in directly. */
export interface DatabaseLogger {
  debug(details: { query: string; params: unknown[] }, message: string): void;
}

interface DatabaseBase {
  readonly db: SparksDb;
  /** Resolves when a trivial query round-trips; rejects otherwise (for `/readyz`). */
  ping(): Promise<void>;
  /** Closes every connection; safe to call more than once. */
  close(): Promise<void>;
}

export interface PostgresDatabase extends DatabaseBase {
  readonly kind: "postgres";
  readonly client: Sql;
  /** Connection string (may hold a password: never log it). Migrations open their own session. */
  readonly url: string;
}

export interface PgliteDatabase extends DatabaseBase {
  readonly kind: "pglite";
  readonly client: PGlite;
}

export type Database = PostgresDatabase | PgliteDatabase;

export interface CreateDatabaseOptions {
  /** Postgres connection string. Absent: embedded PGlite at `dataDir`. */
  url?: string;
  /** PGlite data directory (default `./.data/pglite`); `memory://` keeps it in memory. */
  dataDir?: string;
  logger?: DatabaseLogger;
  /** Postgres pool size (default 10). */
  maxConnections?: number;
}
