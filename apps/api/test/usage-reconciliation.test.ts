import { monthOf } from "@sparks/core";
import { generateFlowiseTraffic } from "@sparks/emulators";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createSyncHarness, type SyncHarness } from "./usage-sync.harness";

const HOUR = 3_600_000;
const now = Date.now();
const window = { from: new Date(now - 3 * HOUR), to: new Date(now - 2 * HOUR) };
let h: SyncHarness;

beforeAll(async () => {
  h = await createSyncHarness({ workerWaitMs: 1_500 });
  h.langfuse.store.addMany(generateFlowiseTraffic({ traces: 12, customers: ["cust_r"], ...window, seed: 5 }));
  await h.addCustomer({ id: "cust_r" });
}, 90_000);

afterAll(() => h?.close());

it("reports Langfuse vs ledger vs Stripe for an admin, and refuses customers and bad months", async () => {
  const admin = await h.bearer("auth0|ops", true);
  const month = monthOf(window.from);

  const bad = await h.app.inject({
    method: "GET",
    url: "/usage/reconciliation?month=2026-13",
    headers: { authorization: admin },
  });
  expect(bad.statusCode).toBe(400);
  expect(bad.json().message).toMatch(/month/);

  const customer = await h.bearer("auth0|someone");
  const denied = await h.app.inject({
    method: "GET",
    url: `/usage/reconciliation?month=${month}`,
    headers: { authorization: customer },
  });
  expect(denied.statusCode).toBe(403);

  // No worker running: the request waits its bound, then says so; it never reads Langfuse itself.
  const timedOut = await h.app.inject({
    method: "GET",
    url: `/usage/reconciliation?month=${month}`,
    headers: { authorization: admin },
  });
  expect(timedOut.statusCode).toBe(503);
  expect(timedOut.json()).toMatchObject({ error: "worker_timeout" });

  // Nothing synced yet: Langfuse has usage the ledger and Stripe lack, and the worker's report says so.
  h.startWorkers();
  const res = await h.app.inject({
    method: "GET",
    url: `/usage/reconciliation?month=${month}`,
    headers: { authorization: admin },
  });
  expect(res.statusCode).toBe(200);
  const report = res.json() as { rows: Array<Record<string, unknown>> };
  expect(report.rows.length).toBeGreaterThan(0);
  expect(report.rows.some((r) => JSON.stringify(r).includes("cust_r"))).toBe(true);
}, 120_000);
