import { createTestDatabase, type TestDatabase } from "@sparks/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createDatabase } from "../src";

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
