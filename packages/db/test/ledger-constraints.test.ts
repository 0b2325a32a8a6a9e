import { createTestDatabase, type TestDatabase } from "@sparks/testing";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDatabase,
  customers,
  type Database,
  migrateDatabase,
  type NewUsageItemRow,
  type SparksDb,
  usageItems,
  webhookEvents,
} from "../src";
import { CHECK_VIOLATION, FOREIGN_KEY_VIOLATION, pgErrorCode, UNIQUE_VIOLATION } from "./pg-error";

function item(overrides: Partial<NewUsageItemRow> = {}): NewUsageItemRow {
  return {
    traceId: "trace-1",
    usageCategory: "ai_tokens",
    customerRef: "cus_sparks_x",
    month: "2026-11",
    occurredAt: new Date("2026-11-03T10:00:00Z"),
    quantity: "1500",
    unit: "tokens",
    exactSparks: "150.000000000",
    ...overrides,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return pgErrorCode(error);
  }
  return "no error";
}

// The same assertions on both drivers: repositories are written once against SparksDb.
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
      await migrateDatabase(database);
      return { database, dispose: () => database.close() };
    },
  ],
];

describe.each(drivers)("ledger constraints on %s", (kind, open) => {
  let database: Database;
  let dispose: () => Promise<void>;
  let db: SparksDb;

  beforeAll(async () => {
    ({ database, dispose } = await open());
    db = database.db;
  });
  afterAll(() => dispose());

  it("opens the requested driver and answers ping", async () => {
    expect(database.kind).toBe(kind);
    await expect(database.ping()).resolves.toBeUndefined();
  });

  it("stores one row per (trace_id, usage_category, quantity_revision)", async () => {
    await db.insert(usageItems).values(item({ traceId: "t-unique" }));
    // Same trace, another category: a separate item.
    await db.insert(usageItems).values(item({ traceId: "t-unique", usageCategory: "compute" }));

    expect(await codeOf(db.insert(usageItems).values(item({ traceId: "t-unique" })))).toBe(UNIQUE_VIOLATION);

    const upserted = await db
      .insert(usageItems)
      .values(item({ traceId: "t-unique", exactSparks: "999" }))
      .onConflictDoNothing({
        target: [usageItems.traceId, usageItems.usageCategory, usageItems.quantityRevision],
      })
      .returning({ id: usageItems.id });
    expect(upserted).toEqual([]);

    // A correction of the same item is a new revision, not a duplicate.
    await db.insert(usageItems).values(item({ traceId: "t-unique", quantityRevision: 1, exactSparks: "5" }));
    expect(
      await codeOf(db.insert(usageItems).values(item({ traceId: "t-unique", quantityRevision: 1 }))),
    ).toBe(UNIQUE_VIOLATION);

    const rows = await db
      .select()
      .from(usageItems)
      .where(and(eq(usageItems.traceId, "t-unique"), eq(usageItems.quantityRevision, 0)));
    expect(rows.map((row) => row.usageCategory).sort()).toEqual(["ai_tokens", "compute"]);
    // The no-op upsert did not overwrite the stored amount.
    expect(rows.find((row) => row.usageCategory === "ai_tokens")?.exactSparks).toBe("150.000000000");
  });

  it("applies the ledger defaults", async () => {
    const [row] = await db
      .insert(usageItems)
      .values(item({ traceId: "t-defaults" }))
      .returning();
    expect(row).toMatchObject({
      status: "pending",
      sentSparks: 0,
      attempts: 0,
      costCenter: "default",
      quantityRevision: 0,
      customerId: null,
      meterEventId: null,
    });
    expect(row?.createdAt).toBeInstanceOf(Date);
  });

  it("keeps exact Sparks at nano precision without float drift", async () => {
    const parts = ["0.000000002", "0.1", "0.2", "123456789012345678.999999999"];
    for (const [index, exactSparks] of parts.entries()) {
      await db.insert(usageItems).values(item({ traceId: `t-exact-${index}`, exactSparks }));
    }
    const [sum] = await db
      .select({ total: sql<string>`sum(${usageItems.exactSparks})::text` })
      .from(usageItems)
      .where(sql`${usageItems.traceId} like 't-exact-%'`);
    expect(sum?.total).toBe("123456789012345679.300000001");
  });

  it("rejects values outside the status, month and sign rules", async () => {
    const badStatus = db
      .insert(usageItems)
      .values(item({ traceId: "t-bad-1", status: "lost" as NewUsageItemRow["status"] }));
    expect(await codeOf(badStatus)).toBe(CHECK_VIOLATION);
    expect(await codeOf(db.insert(usageItems).values(item({ traceId: "t-bad-2", month: "2026-13" })))).toBe(
      CHECK_VIOLATION,
    );
    expect(await codeOf(db.insert(usageItems).values(item({ traceId: "t-bad-3", exactSparks: "-1" })))).toBe(
      CHECK_VIOLATION,
    );
    expect(
      await codeOf(db.insert(usageItems).values(item({ traceId: "t-bad-4", customerId: "cus_missing" }))),
    ).toBe(FOREIGN_KEY_VIOLATION);
  });

  it("gives customers a prefixed id and keeps Auth0 and Stripe ids one-to-one", async () => {
    const [first] = await db
      .insert(customers)
      .values({ auth0UserId: "auth0|a", stripeCustomerId: "cus_A" })
      .returning();
    expect(first?.id).toMatch(/^cus_sparks_[0-9a-z]{26}$/);
    expect(first?.tier).toBe("free");
    // Several customers without Auth0/Stripe links are fine (NULLs don't collide)...
    await db.insert(customers).values([{ name: "one" }, { name: "two" }]);
    // ...but one Auth0 user can't be two customers.
    expect(await codeOf(db.insert(customers).values({ auth0UserId: "auth0|a" }))).toBe(UNIQUE_VIOLATION);
    expect(await codeOf(db.insert(customers).values({ stripeCustomerId: "cus_A" }))).toBe(UNIQUE_VIOLATION);
  });

  it("records a Stripe webhook event id once", async () => {
    const event = {
      stripeEventId: "evt_123",
      type: "invoice.paid",
      created: new Date("2026-11-03T10:00:00Z"),
      payload: { id: "evt_123", nested: { amount: 1 } },
    };
    await db.insert(webhookEvents).values(event);
    expect(await codeOf(db.insert(webhookEvents).values(event))).toBe(UNIQUE_VIOLATION);
    const duplicate = await db.insert(webhookEvents).values(event).onConflictDoNothing().returning();
    expect(duplicate).toEqual([]);
    const [stored] = await db.select().from(webhookEvents).where(eq(webhookEvents.stripeEventId, "evt_123"));
    expect(stored?.payload).toEqual(event.payload);
    expect(stored?.status).toBe("received");
  });

  it("runs transactions that roll back on error", async () => {
    const failing = db.transaction(async (tx) => {
      await tx.insert(usageItems).values(item({ traceId: "t-tx" }));
      await tx.insert(usageItems).values(item({ traceId: "t-tx" }));
    });
    expect(await codeOf(failing)).toBe(UNIQUE_VIOLATION);
    const rows = await db.select().from(usageItems).where(eq(usageItems.traceId, "t-tx"));
    expect(rows).toEqual([]);
  });
});
