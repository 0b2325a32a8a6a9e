import { createTestDatabase, type TestDatabase } from "@sparks/testing";
import postgres from "postgres";
import { afterAll, beforeAll, expect, it } from "vitest";
import { closeAdvisoryLocks, createDatabase, type Database, type ReleaseLock, tryAdvisoryLock } from "../src";

let test: TestDatabase;
let processA: Database;
let processB: Database;

beforeAll(async () => {
  test = await createTestDatabase({ maxConnections: 1 });
  // Two Database objects stand for two worker processes: each has its own lock session.
  processA = await createDatabase({ url: test.url, maxConnections: 2 });
  processB = await createDatabase({ url: test.url, maxConnections: 2 });
});

afterAll(async () => {
  await closeAdvisoryLocks(processA);
  await closeAdvisoryLocks(processB);
  await processA.close();
  await processB.close();
  await test.drop();
});

async function lockConnections(): Promise<number> {
  const admin = postgres(test.url, { max: 1, onnotice: () => {} });
  try {
    const rows = await admin`select count(distinct pid)::int as n from pg_locks
      where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`;
    return Number(rows[0]?.n ?? 0);
  } finally {
    await admin.end();
  }
}

it("holds hundreds of locks at once on one connection per process", async () => {
  const releases: ReleaseLock[] = [];
  for (let i = 0; i < 300; i++) {
    const release = await tryAdvisoryLock(processA, `group-${i}`);
    expect(release).not.toBeNull();
    if (release) releases.push(release);
  }
  expect(await lockConnections()).toBe(1);
  for (const release of releases) await release();
  expect(await lockConnections()).toBe(0);
});

it("is exclusive within a process (a session's locks are re-entrant; ours are not) and across processes", async () => {
  const held = await tryAdvisoryLock(processA, "customer-1:ai_tokens");
  expect(held).not.toBeNull();
  expect(await tryAdvisoryLock(processA, "customer-1:ai_tokens")).toBeNull();
  expect(await tryAdvisoryLock(processB, "customer-1:ai_tokens")).toBeNull();
  const other = await tryAdvisoryLock(processB, "customer-1:compute");
  expect(other).not.toBeNull();
  await held?.();
  await held?.(); // releasing twice is harmless
  const taken = await tryAdvisoryLock(processB, "customer-1:ai_tokens");
  expect(taken).not.toBeNull();
  await taken?.();
  await other?.();
});

it("frees every lock of a process whose connection goes away", async () => {
  const gone = await createDatabase({ url: test.url, maxConnections: 1 });
  for (const key of ["a", "b", "c"]) expect(await tryAdvisoryLock(gone, key)).not.toBeNull();
  expect(await tryAdvisoryLock(processA, "b")).toBeNull();
  await closeAdvisoryLocks(gone);
  await gone.close();
  const release = await tryAdvisoryLock(processA, "b");
  expect(release).not.toBeNull();
  await release?.();
});
