import postgres, { type Sql } from "postgres";
import type { Database, PostgresDatabase } from "../database.types";

/** Releases a held lock; safe to call more than once. */
export type ReleaseLock = () => Promise<void>;

const heldInProcess = new Set<string>();

/**
 * Held locks pin a connection for as long as the work they guard, so they come from their own
 * small pool: drawing them from the query pool lets N lock holders starve their own queries.
 */
const lockPools = new WeakMap<PostgresDatabase, Sql>();
const LOCK_POOL_SIZE = 24;

function lockPool(database: PostgresDatabase): Sql {
  let pool = lockPools.get(database);
  if (!pool) {
    pool = postgres(database.url, { max: LOCK_POOL_SIZE, idle_timeout: 10, onnotice: () => {} });
    lockPools.set(database, pool);
  }
  return pool;
}

/** Closes the lock pool of a database (held locks are released with their connections). */
export async function closeAdvisoryLocks(database: Database): Promise<void> {
  if (database.kind !== "postgres") return;
  const pool = lockPools.get(database);
  if (!pool) return;
  lockPools.delete(database);
  await pool.end({ timeout: 5 });
}

/**
 * A session-level Postgres advisory lock, held on a reserved connection: if the process dies
 * (even SIGKILL) the connection drops and Postgres releases the lock, so a crash never leaves
 * a group or the sync locked. PGlite is one connection in one process, where advisory locks
 * would be re-entrant and useless: an in-process set does the job there.
 * Returns null when another holder has it.
 */
export async function tryAdvisoryLock(database: Database, key: string): Promise<ReleaseLock | null> {
  if (database.kind === "pglite") {
    if (heldInProcess.has(key)) return null;
    heldInProcess.add(key);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      heldInProcess.delete(key);
    };
  }
  const reserved = await lockPool(database).reserve();
  try {
    const rows = await reserved`select pg_try_advisory_lock(hashtextextended(${key}, 0)) as locked`;
    if (rows[0]?.locked !== true) {
      reserved.release();
      return null;
    }
  } catch (error) {
    reserved.release();
    throw error;
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      await reserved`select pg_advisory_unlock(hashtextextended(${key}, 0))`;
    } finally {
      reserved.release();
    }
  };
}
