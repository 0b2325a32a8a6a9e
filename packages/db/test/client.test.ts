import { createTestDatabase, type TestDatabase } from "@sparks/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDatabase, executeRows } from "../src";

let test: TestDatabase;

beforeAll(async () => {
  test = await createTestDatabase({ maxConnections: 1 });
});
afterAll(() => test.drop());

it("logs queries through the given logger at debug level", async () => {
  const logged: Array<{ query: string; params: unknown[]; message: string }> = [];
  const database = await createDatabase({
    url: test.url,
    logger: { debug: (details, message) => logged.push({ ...details, message }) },
  });
  try {
    await database.ping();
  } finally {
    await database.close();
  }
  expect(logged).toEqual([{ query: "select 1", params: [], message: "sql" }]);
});

it("fails ping after close, and closing twice is harmless", async () => {
  const database = await createDatabase({ url: test.url });
  await database.ping();
  await database.close();
  await expect(database.close()).resolves.toBeUndefined();
  await expect(database.ping()).rejects.toThrow();
});

it("fails ping when Postgres is unreachable (what /readyz reports)", async () => {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  const database = await createDatabase({ url: "postgres://postgres@127.0.0.1:1/none" });
  try {
    await expect(database.ping()).rejects.toThrow();
  } finally {
    await database.close();
  }
});

it("prepares statements that have parameters (one round trip, no re-parse) and leaves the rest unprepared", async () => {
  const database = await createDatabase({ url: test.url, maxConnections: 2 });
  try {
    const n = await database.db.transaction(async (tx) => {
      for (const v of [1, 2, 3]) {
        const rows = await executeRows<{ a: unknown }>(tx, sql`select ${v}::int as a`);
        expect(Number(rows[0]?.a)).toBe(v);
      }
      await executeRows(tx, sql.raw("select 42 as inlined"));
      const rows = await executeRows<{ statement: unknown }>(
        tx,
        sql.raw("select statement from pg_prepared_statements where not from_sql"),
      );
      return rows.map((r) => String(r.statement));
    });
    // The three parameterised selects share one prepared statement; the inlined ones are not kept.
    expect(n.filter((s) => s.includes("$1"))).toHaveLength(1);
    expect(n.some((s) => s.includes("inlined"))).toBe(false);
  } finally {
    await database.close();
  }
});
