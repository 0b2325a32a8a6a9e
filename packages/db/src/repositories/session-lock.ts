import postgres, { type Sql } from "postgres";
import type { Database, PostgresDatabase } from "../database.types";

/** Releases a held lock; safe to call more than once. */
export type ReleaseLock = () => Promise<void>;

/**
 * Every advisory lock a process holds lives on ONE dedicated connection (a Postgres session can
 * hold any number of advisory locks). A connection per held lock would cap the number of pushes
 * running at once at the pool size — and at Postgres' max_connections across processes — while
 * the lock queries themselves are tiny. The connection never idles out nor is recycled, since
 * that would drop the locks; if it dies (the process, or Postgres), Postgres releases them.
 *
 * A session's advisory locks are re-entrant, so two holders in one process must be kept apart
 * here: `held` is this process's view of which keys it holds.
 */
interface LockSession {
  sql: Sql;
  held: Set<string>;
}

const sessions = new WeakMap<PostgresDatabase, LockSession>();
const heldInPglite = new Set<string>();

function lockSession(database: PostgresDatabase): LockSession {
  let session = sessions.get(database);
  if (!session) {
    session = {
      sql: postgres(database.url, { max: 1, idle_timeout: 0, max_lifetime: 0, onnotice: () => {} }),
      held: new Set(),
    };
    sessions.set(database, session);
  }
  return session;
}

/** Closes the lock connection of a database (every lock it held is released with it). */
export async function closeAdvisoryLocks(database: Database): Promise<void> {
  if (database.kind !== "postgres") return;
  const session = sessions.get(database);
  if (!session) return;
  sessions.delete(database);
  await session.sql.end({ timeout: 5 });
}

/**
 * Waits up to `waitMs` for `tryAdvisoryLock`, polling with jitter; null if it stayed taken.
 * Shared by every job that serialises on a lock (the sync, a customer's push group).
 */
export async function waitForAdvisoryLock(
  database: Database,
  key: string,
  waitMs: number,
): Promise<ReleaseLock | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const release = await tryAdvisoryLock(database, key);
    if (release || Date.now() >= deadline) return release;
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 150));
  }
}

/**
 * A session-level Postgres advisory lock: if the process dies (even SIGKILL) its connection
 * drops and Postgres releases the lock, so a crash never leaves a group or the sync locked.
 * PGlite is one connection in one process, where advisory locks would be re-entrant and
 * useless: an in-process set does the job there. Returns null when another holder has it.
 */
export async function tryAdvisoryLock(database: Database, key: string): Promise<ReleaseLock | null> {
  if (database.kind === "pglite") {
    if (heldInPglite.has(key)) return null;
    heldInPglite.add(key);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      heldInPglite.delete(key);
    };
  }
  const session = lockSession(database);
  if (session.held.has(key)) return null;
  // Claimed in-process before the query, so a concurrent caller here cannot take it re-entrantly.
  session.held.add(key);
  try {
    const rows = await session.sql`select pg_try_advisory_lock(hashtextextended(${key}, 0)) as locked`;
    if (rows[0]?.locked !== true) {
      session.held.delete(key);
      return null;
    }
  } catch (error) {
    session.held.delete(key);
    throw error;
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      await session.sql`select pg_advisory_unlock(hashtextextended(${key}, 0))`;
    } finally {
      session.held.delete(key);
    }
  };
}
