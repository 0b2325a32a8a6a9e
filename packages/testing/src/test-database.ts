import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { createDatabase, type Database, migrateDatabase, migrationsFolder } from "@sparks/db";
import postgres, { type Sql } from "postgres";

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Serialises template builds across vitest workers; locks are per database, all use the admin one. */
const TEMPLATE_LOCK_KEY = 0x535041524b535454n;

export interface TestDatabase {
  /** Connection string of this test's own database. */
  url: string;
  /** An open, migrated connection to it. */
  database: Database;
  /** Closes `database` and drops the database (idempotent). */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Pool size of `database` (default 4: many test files run in parallel on one server). */
  maxConnections?: number;
}

function urlFor(databaseName: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${databaseName}`;
  return url.toString();
}

function adminClient(): Sql {
  return postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
}

/** Names come from hex digests/randomness only, but quote them as identifiers anyway. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Template name changes whenever a migration file does, so a stale template is never reused. */
async function templateName(): Promise<string> {
  const hash = createHash("sha256");
  for (const file of await listFiles(migrationsFolder)) {
    hash.update(relative(migrationsFolder, file));
    hash.update("\0");
    hash.update(await readFile(file));
    hash.update("\0");
  }
  return `sparks_template_${hash.digest("hex").slice(0, 16)}`;
}

async function databaseExists(admin: Sql, name: string): Promise<boolean> {
  const rows = await admin`select 1 from pg_database where datname = ${name}`;
  return rows.length > 0;
}

/**
 * Migrating once and cloning with CREATE DATABASE ... TEMPLATE is far faster than migrating
 * every test database. The template is built under a temporary name and renamed when
 * complete, so a build interrupted half-way is never mistaken for a finished template.
 */
async function buildTemplate(): Promise<string> {
  const name = await templateName();
  const admin = adminClient();
  try {
    if (await databaseExists(admin, name)) return name;
    await admin`select pg_advisory_lock(${TEMPLATE_LOCK_KEY.toString()}::bigint)`;
    try {
      if (await databaseExists(admin, name)) return name;
      const building = `${name}_building`;
      await admin.unsafe(`drop database if exists ${ident(building)} with (force)`);
      await admin.unsafe(`create database ${ident(building)}`);
      const database = await createDatabase({ url: urlFor(building), maxConnections: 1 });
      try {
        await migrateDatabase(database);
      } finally {
        await database.close();
      }
      await admin.unsafe(`alter database ${ident(building)} rename to ${ident(name)}`);
      return name;
    } finally {
      await admin`select pg_advisory_unlock(${TEMPLATE_LOCK_KEY.toString()}::bigint)`.catch(() => {});
    }
  } finally {
    await admin.end({ timeout: 5 });
  }
}

let template: Promise<string> | undefined;

function ensureTemplate(): Promise<string> {
  template ??= buildTemplate().catch((error: unknown) => {
    // Let the next test try again instead of failing forever on a transient error.
    template = undefined;
    throw error;
  });
  return template;
}

/** A fresh, migrated Postgres database for one test file (or test), dropped by `drop()`. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const templateDb = await ensureTemplate();
  const name = `sparks_test_${randomBytes(8).toString("hex")}`;
  const admin = adminClient();
  try {
    await admin.unsafe(`create database ${ident(name)} template ${ident(templateDb)}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  const url = urlFor(name);
  const database = await createDatabase({ url, maxConnections: options.maxConnections ?? 4 });
  let dropped: Promise<void> | undefined;
  return {
    url,
    database,
    drop() {
      dropped ??= (async () => {
        await database.close();
        const dropper = adminClient();
        try {
          await dropper.unsafe(`drop database if exists ${ident(name)} with (force)`);
        } finally {
          await dropper.end({ timeout: 5 });
        }
      })();
      return dropped;
    },
  };
}
