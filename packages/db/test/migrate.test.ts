import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { TEST_DATABASE_URL } from "@sparks/testing";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDatabase,
  customers,
  type Database,
  executeRows,
  migrateDatabase,
  migrationsFolder,
} from "../src";

const TABLES = [
  "alerts_sent",
  "customer_month_closes",
  "customers",
  "meter_events",
  "month_closes",
  "observation_usage",
  "quota_caps",
  "stripe_audit_log",
  "sync_run_traces",
  "sync_runs",
  "sync_windows",
  "tier_history",
  "usage_corrections",
  "usage_items",
  "webhook_events",
];

async function journalEntries(): Promise<number> {
  const journal: unknown = JSON.parse(
    await readFile(join(migrationsFolder, "meta", "_journal.json"), "utf8"),
  );
  if (
    typeof journal !== "object" ||
    journal === null ||
    !("entries" in journal) ||
    !Array.isArray(journal.entries)
  ) {
    throw new Error("unexpected drizzle journal shape");
  }
  return journal.entries.length;
}

async function publicTables(database: Database): Promise<string[]> {
  const rows = await executeRows<{ table_name: string }>(
    database.db,
    sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
  );
  return rows.map((row) => row.table_name);
}

async function appliedMigrations(database: Database): Promise<Array<{ id: number; hash: string }>> {
  const rows = await executeRows<{ id: number; hash: string }>(
    database.db,
    sql`select id, hash from drizzle.__drizzle_migrations order by id`,
  );
  return rows.map((row) => ({ id: Number(row.id), hash: row.hash }));
}

it("finds its migrations by absolute path, whatever the cwd", () => {
  expect(isAbsolute(migrationsFolder)).toBe(true);
  expect(existsSync(join(migrationsFolder, "meta", "_journal.json"))).toBe(true);
});

describe("migrations on Postgres", () => {
  // An empty database of our own (not the test template) so the migrations really run here.
  const name = `sparks_migrate_${randomBytes(6).toString("hex")}`;
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  const opened: Database[] = [];

  beforeAll(async () => {
    await admin.unsafe(`create database "${name}"`);
  });
  afterAll(async () => {
    await Promise.all(opened.map((database) => database.close()));
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });

  it("applies every migration once, even when two processes migrate at the same time", async () => {
    // Separate pools, like the API and the worker starting together.
    const first = await createDatabase({ url: url.toString() });
    const second = await createDatabase({ url: url.toString() });
    opened.push(first, second);

    await Promise.all([migrateDatabase(first), migrateDatabase(second)]);

    expect(await publicTables(first)).toEqual(TABLES);
    const applied = await appliedMigrations(first);
    expect(applied).toHaveLength(await journalEntries());

    // Running again (e.g. the next start-up) changes nothing.
    await migrateDatabase(second);
    expect(await appliedMigrations(second)).toEqual(applied);
  });
});

describe("migrations on PGlite", () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "sparks-pglite-"));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("creates the data directory, migrates idempotently and keeps data across restarts", async () => {
    // A nested path that doesn't exist yet, like `./.data/pglite` on a fresh clone.
    const dataDir = join(root, "nested", "pglite");
    const database = await createDatabase({ dataDir });
    try {
      expect(database.kind).toBe("pglite");
      await migrateDatabase(database);
      await migrateDatabase(database);
      expect(await publicTables(database)).toEqual(TABLES);
      expect(await appliedMigrations(database)).toHaveLength(await journalEntries());
      await database.db.insert(customers).values({ id: "cus_sparks_persisted", tier: "standard" });
    } finally {
      await database.close();
    }

    const reopened = await createDatabase({ dataDir });
    try {
      const before = await appliedMigrations(reopened);
      await migrateDatabase(reopened);
      expect(await appliedMigrations(reopened)).toEqual(before);
      const rows = await reopened.db.select().from(customers);
      expect(rows.map((row) => [row.id, row.tier])).toEqual([["cus_sparks_persisted", "standard"]]);
    } finally {
      await reopened.close();
    }
  });
});
