import { createTestDatabase, TEST_DATABASE_URL } from "@sparks/testing";
import postgres from "postgres";
import { expect, it } from "vitest";
import { customers } from "../src";

async function databaseExists(name: string): Promise<boolean> {
  const admin = postgres(TEST_DATABASE_URL, { max: 1 });
  try {
    const rows = await admin`select 1 from pg_database where datname = ${name}`;
    return rows.length > 0;
  } finally {
    await admin.end();
  }
}

it("gives each caller its own migrated database and drops it afterwards", async () => {
  const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  const nameA = new URL(a.url).pathname.slice(1);
  try {
    expect(a.url).not.toBe(b.url);
    expect(nameA).toMatch(/^sparks_test_[0-9a-f]{16}$/);

    await a.database.db.insert(customers).values({ id: "cus_sparks_only_in_a" });
    expect(await a.database.db.select().from(customers)).toHaveLength(1);
    // Cloned from the migrated template: the schema is there, A's rows are not.
    expect(await b.database.db.select().from(customers)).toEqual([]);
  } finally {
    await Promise.all([a.drop(), b.drop()]);
  }

  expect(await databaseExists(nameA)).toBe(false);
  // Dropping twice is harmless (afterAll hooks may run after a failed test already dropped).
  await expect(a.drop()).resolves.toBeUndefined();
});
