import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { TEST_DATABASE_URL } from "@sparks/testing";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { bundleEntry } from "../src";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "../../..");
let dir: string;
let outfile: string;
/** An empty database (no migrations yet), dropped at the end. */
let dbName: string;
let dbUrl: string;
const admin = () => postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "sparks-bundle-"));
  outfile = join(dir, "sparks.mjs");
  await bundleEntry({ entry: resolve(repoRoot, "apps/cli/src/main.ts"), outfile });
  dbName = `sparks_bundle_${randomBytes(6).toString("hex")}`;
  const sql = admin();
  try {
    await sql.unsafe(`create database ${dbName}`);
  } finally {
    await sql.end();
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${dbName}`;
  dbUrl = url.toString();
}, 120_000);

afterAll(async () => {
  if (dbName) {
    const sql = admin();
    try {
      await sql.unsafe(`drop database if exists ${dbName} with (force)`);
    } finally {
      await sql.end();
    }
  }
  await rm(dir, { recursive: true, force: true });
});

/** Plain node, no TypeScript loader, from an unrelated working directory. */
function node(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [outfile, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    timeout: 60_000,
  });
}

it("runs the CLI from the bundle with plain node", async () => {
  const { stdout } = await node(["--help"]);
  for (const command of ["start", "api", "worker", "migrate", "sync", "reconcile"]) {
    expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
  }
});

it("applies the migrations from the bundle (files found next to their own sources, packages from node_modules)", async () => {
  await node(["migrate"], { DATABASE_URL: dbUrl, LOG_LEVEL: "warn" });
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql`select table_name from information_schema.tables
      where table_schema = 'public' and table_name in ('usage_items', 'meter_events', 'stripe_audit_log')`;
    expect(rows.map((r) => r.table_name).sort()).toEqual(["meter_events", "stripe_audit_log", "usage_items"]);
  } finally {
    await sql.end();
  }
});

it("fails with the CLI's one-line reason, not a loader error", async () => {
  const failed = await node(["worker"], { REDIS_URL: "notaurl" }).then(
    () => null,
    (e: { stderr: string; code: number }) => e,
  );
  expect(failed?.code).not.toBe(0);
  expect(failed?.stderr).toMatch(/REDIS_URL/);
  expect(failed?.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
});
