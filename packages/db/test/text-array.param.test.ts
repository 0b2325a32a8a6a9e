import { createTestDatabase, type TestDatabase } from "@sparks/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database, executeRows } from "../src";
import { epochMs } from "../src/repositories/observation-staging.repository";
import { textArrayParam } from "../src/repositories/text-array.param";

const drivers: Array<[string, () => Promise<{ database: Database; dispose(): Promise<void> }>]> = [
  [
    "postgres",
    async () => {
      const test: TestDatabase = await createTestDatabase();
      return { database: test.database, dispose: () => test.drop() };
    },
  ],
  [
    "pglite",
    async () => {
      const database = await createDatabase({ dataDir: "memory://" });
      return { database, dispose: () => database.close() };
    },
  ],
];

// Both encodings (JSON fast path, element-by-element fallback) must decode to the same values.
const cases: Array<[string, Array<string | null>]> = [
  ["plain", ["a", "b-1", "2026-11-03T10:00:00.000Z"]],
  ["nulls and the string NULL", [null, "NULL", "null", "", null]],
  ["quotes, backslashes, braces, commas", ['x"y', "back\\slash", '{"k":"v\\"w"}', "a,b", "{}", " spaced "]],
  ["control characters (fallback path)", ["line\nbreak", "tab\there", "\u0001", "back\\nslash-n"]],
  ["non-ASCII", ["é→💶", "\uFFFD"]],
  ["empty", []],
];

describe.each(drivers)("textArrayParam on %s", (_kind, open) => {
  let database: Database;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ database, dispose } = await open());
  });
  afterAll(() => dispose());

  it.each(cases)("round-trips %s", async (_name, values) => {
    const rows = await executeRows<{ v: string | null; n: unknown }>(
      database.db,
      sql`select v, n from unnest(${textArrayParam(values)}::text[]) with ordinality as x(v, n) order by n`,
    );
    expect(rows.map((r) => r.v)).toEqual(values);
  });

  it("takes a lone surrogate (JSON escapes it) as U+FFFD, as UTF-8 encoding does", async () => {
    const rows = await executeRows<{ v: string }>(
      database.db,
      sql`select unnest(${textArrayParam(["\ud800x", "ok"])}::text[]) as v`,
    );
    expect(rows.map((r) => r.v)).toEqual(["\ufffdx", "ok"]);
  });

  it("decodes epoch-millisecond times exactly (to_timestamp of float8 seconds, rounded to µs)", async () => {
    const times = [
      new Date("2026-11-25T04:28:31.802Z"),
      new Date("2026-11-30T23:59:59.999Z"),
      new Date("1999-12-31T23:59:59.001Z"),
      new Date(0),
      ...Array.from({ length: 200 }, (_, i) => new Date(1_764_000_000_000 + i * 7_919_999 + (i % 1000))),
    ];
    const rows = await executeRows<{ iso: string }>(
      database.db,
      sql`select to_char(to_timestamp(ms / 1000) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as iso
          from unnest(${textArrayParam(times.map(epochMs))}::float8[]) with ordinality as x(ms, n) order by n`,
    );
    expect(rows.map((r) => r.iso)).toEqual(times.map((t) => t.toISOString().replace("Z", "000Z")));
  });
});
