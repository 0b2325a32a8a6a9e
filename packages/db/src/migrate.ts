import { fileURLToPath } from "node:url";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import type { Database, PgliteDatabase, PostgresDatabase } from "./database.types";

/** Absolute path of the generated SQL migrations, independent of the process's cwd. */
export const migrationsFolder: string = fileURLToPath(new URL("../drizzle", import.meta.url));

/**
 * Arbitrary but fixed advisory-lock key ("SPARKSMG" in ASCII). Advisory locks are scoped to
 * the current database, so this only serialises migrators of the same database.
 */
const MIGRATION_LOCK_KEY = 0x535041524b534d47n;

/** Applies pending migrations. Idempotent: already-applied migrations are skipped. */
export async function migrateDatabase(database: Database): Promise<void> {
  if (database.kind === "postgres") {
    await migratePostgresDatabase(database);
  } else {
    await migratePgliteDatabase(database);
  }
}

/**
 * The API and the worker may start together and both migrate. drizzle reads the last applied
 * migration before opening its transaction, so two concurrent runs could both try to apply
 * it; a session advisory lock makes the second wait and then find nothing to do. The lock
 * must be held by the session that migrates, hence a dedicated one-connection client (the
 * pool could hand each statement to a different connection).
 */
async function migratePostgresDatabase(database: PostgresDatabase): Promise<void> {
  const session = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    await session`select pg_advisory_lock(${MIGRATION_LOCK_KEY.toString()}::bigint)`;
    try {
      await migratePostgres(drizzlePostgres({ client: session }), { migrationsFolder });
    } finally {
      // Best effort: if the session is broken the lock died with it, and the migration's
      // own error is the one worth reporting.
      await session`select pg_advisory_unlock(${MIGRATION_LOCK_KEY.toString()}::bigint)`.catch(() => {});
    }
  } finally {
    await session.end({ timeout: 5 });
  }
}

/** PGlite is one connection in one process: nothing can race, no lock needed. */
async function migratePgliteDatabase(database: PgliteDatabase): Promise<void> {
  await migratePglite(drizzlePglite({ client: database.client }), { migrationsFolder });
}
