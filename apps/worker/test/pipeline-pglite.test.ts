import { createDatabase, type Database, executeRows, migrateDatabase } from "@sparks/db";
import { generateFlowiseTraffic } from "@sparks/emulators";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createWorkerDeps, pushMeterEvents, runSync, type WorkerDeps } from "../src";
import {
  type CustomerFixture,
  createHarness,
  expectedTotals,
  type Harness,
  silentLogger,
  stripeTotals,
} from "./pipeline.harness";

const HOUR = 3_600_000;
const now = Date.now();
let h: Harness;
let pglite: Database;
let deps: WorkerDeps;

beforeAll(async () => {
  h = await createHarness({ aggregation: "off", maxRps: 1_000, stripeRateLimit: 0 });
  pglite = await createDatabase({ dataDir: "memory://" });
  await migrateDatabase(pglite);
  deps = createWorkerDeps({
    config: h.config,
    database: pglite,
    connection: h.redis.connection,
    queues: h.deps.queues,
    logger: silentLogger,
    stripeTimeoutMs: 5_000,
    ...(h.deps.pipeline ? { pipeline: h.deps.pipeline } : {}),
    ...(h.deps.now ? { now: h.deps.now } : {}),
  });
}, 60_000);

afterAll(async () => {
  await pglite?.close();
  await h?.close();
});

it("runs the same sync and push on embedded PGlite (sparks start)", async () => {
  const records = generateFlowiseTraffic({
    traces: 200,
    customers: 3,
    from: new Date(now - 2 * HOUR),
    to: new Date(now - HOUR),
    seed: 3,
  });
  h.langfuse.store.addMany(records);
  const fixtures: CustomerFixture[] = [];
  for (const ref of ["cust_0001", "cust_0002", "cust_0003"]) {
    const sc = await h.stripe.customers.create({ email: `${ref}@example.com` });
    await executeRows(
      pglite.db,
      `insert into customers (id, stripe_customer_id, tier) values ('${ref}', '${sc.id}', 'standard')`,
    );
    fixtures.push({ ref, id: ref, stripeId: sc.id });
  }
  const window = { from: new Date(now - 3 * HOUR).toISOString(), to: new Date(now - HOUR / 2).toISOString() };
  for (const syncId of ["sync_pg_1", "sync_pg_2"]) {
    await executeRows(pglite.db, `insert into sync_runs (id, trigger) values ('${syncId}', 'manual')`);
    const result = await runSync(deps, { syncId, ...window, customerId: null, trigger: "manual" });
    expect(result.counts.observations).toBeGreaterThan(200);
  }
  const groups = await executeRows<{ customer_id: string; usage_category: string; month: string }>(
    pglite.db,
    "select distinct customer_id, usage_category, month from usage_items where status = 'pending'",
  );
  for (const g of groups) {
    await pushMeterEvents(deps, { customerId: g.customer_id, category: g.usage_category, month: g.month });
  }
  expect(stripeTotals(h.stripeEmulator)).toEqual(expectedTotals(records, fixtures).wholeByMeter);
});
