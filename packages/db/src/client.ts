import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import type { Logger } from "drizzle-orm/logger";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import type {
  CreateDatabaseOptions,
  Database,
  DatabaseLogger,
  PgliteDatabase,
  PostgresDatabase,
} from "./database.types";
import { preparingStatements } from "./prepared-statements";
import * as schema from "./schema";

export const DEFAULT_PGLITE_DIR = "./.data/pglite";
const DEFAULT_POOL_SIZE = 10;

function toDrizzleLogger(logger: DatabaseLogger | undefined): Logger | undefined {
  if (!logger) return undefined;
  return { logQuery: (query, params) => logger.debug({ query, params }, "sql") };
}

/** Opens the ledger: Postgres when `url` is given, otherwise embedded PGlite. */
export async function createDatabase(opts: CreateDatabaseOptions = {}): Promise<Database> {
  return opts.url ? createPostgresDatabase(opts.url, opts) : createPgliteDatabase(opts);
}

function createPostgresDatabase(url: string, opts: CreateDatabaseOptions): PostgresDatabase {
  const client = postgres(url, {
    max: opts.maxConnections ?? DEFAULT_POOL_SIZE,
    // NOTICEs ("relation already exists, skipping" from migrations) are noise on stdout.
    onnotice: () => {},
  });
  const db = drizzlePostgres({
    client: preparingStatements(client),
    schema,
    logger: toDrizzleLogger(opts.logger),
  });
  let closed: Promise<void> | undefined;
  return {
    kind: "postgres",
    db,
    client,
    url,
    async ping() {
      await db.execute(sql`select 1`);
    },
    close() {
      closed ??= client.end({ timeout: 5 });
      return closed;
    },
  };
}

async function createPgliteDatabase(opts: CreateDatabaseOptions): Promise<PgliteDatabase> {
  const dataDir = opts.dataDir ?? DEFAULT_PGLITE_DIR;
  const inMemory = dataDir.startsWith("memory://");
  if (!inMemory) {
    // PGlite creates the data directory itself but not its parents (`./.data` on a fresh clone).
    await mkdir(dirname(resolve(dataDir)), { recursive: true });
  }
  const client = await PGlite.create(inMemory ? dataDir : resolve(dataDir));
  const db = drizzlePglite({ client, schema, logger: toDrizzleLogger(opts.logger) });
  let closed: Promise<void> | undefined;
  return {
    kind: "pglite",
    db,
    client,
    async ping() {
      await db.execute(sql`select 1`);
    },
    close() {
      closed ??= client.closed ? Promise.resolve() : client.close();
      return closed;
    },
  };
}
