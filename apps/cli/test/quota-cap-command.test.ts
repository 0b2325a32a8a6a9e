import { CustomerRepository, QuotaRepository } from "@sparks/db";
import { createTestDatabase, type TestDatabase } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runSparks } from "./cli-harness";

let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let paid: string;

beforeAll(async () => {
  db = await createTestDatabase();
  env = cleanEnv({ DATABASE_URL: db.url });
  const customers = new CustomerRepository(db.database.db);
  paid = (await customers.insert({ auth0UserId: "auth0|cli-cap", tier: "standard" })).id;
  await customers.insert({ auth0UserId: "auth0|cli-cap-free", tier: "free" });
});
afterAll(async () => {
  await db?.drop();
});

describe("sparks quota:cap", () => {
  it("sets a hard USD cap and prints it in Sparks", async () => {
    const r = await runSparks(["quota:cap", "--customer", "auth0|cli-cap", "--usd", "99.50", "--json"], env);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      customer_id: paid,
      unit: "usd",
      amount: "99.50",
      sparks: 99_500,
      soft: false,
    });
    expect(await new QuotaRepository(db.database.db).cap(paid)).toMatchObject({
      unit: "usd",
      amount: "99.50",
    });
  });

  it("sets a soft Sparks cap, then clears it", async () => {
    const set = await runSparks(["quota:cap", "--customer", paid, "--sparks", "250000", "--soft"], env);
    expect(set.code).toBe(0);
    expect(set.stdout).toBe(`customer ${paid}: soft spend cap 250000 Sparks = 250000 Sparks a month\n`);
    const cleared = await runSparks(["quota:cap", "--customer", paid, "--clear"], env);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toBe(`customer ${paid}: spend cap removed\n`);
    expect(await new QuotaRepository(db.database.db).cap(paid)).toBeNull();
  });

  it.each([
    [["--customer", "auth0|cli-cap", "--usd", "-5"], /^sparks: --usd: must be a plain positive decimal/],
    [["--customer", "auth0|cli-cap", "--usd", "0"], /^sparks: --usd: must be greater than zero/],
    [
      ["--customer", "auth0|cli-cap", "--usd", "5", "--sparks", "5"],
      /^sparks: --usd or --sparks: give exactly one/,
    ],
    [["--customer", "auth0|nobody", "--usd", "5"], /^sparks: --customer: no customer auth0\|nobody/],
    [
      ["--customer", "auth0|cli-cap-free", "--usd", "5"],
      /^sparks: --customer: a free customer is hard-capped/,
    ],
  ])("refuses %j in one line, exit 1", async (args, message) => {
    const r = await runSparks(["quota:cap", ...args], env);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });
});
