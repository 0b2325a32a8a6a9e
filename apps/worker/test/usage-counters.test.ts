import { monthOf } from "@sparks/core";
import { customers } from "@sparks/db";
import { UsageCounters } from "@sparks/queues";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, drained, type Harness, syncStatus, waitFor } from "./pipeline.harness";

const HOUR = 3_600_000;
let h: Harness;
const now = Date.now();
let at = 0;
let stdId = "";

function chat(id: string, customer: string, tokens: number, at: number) {
  h.langfuse.store.addTrace(
    { id, timestamp: new Date(at), userId: customer, metadata: { customer_id: customer } },
    [
      {
        id: `${id}-gen`,
        traceId: id,
        type: "GENERATION" as const,
        startTime: new Date(at),
        endTime: new Date(at + 200),
        usageDetails: { input: tokens - 100, output: 100, total: tokens },
        metadata: { customer_id: customer },
      },
    ],
  );
}

async function sync(id: string): Promise<void> {
  await h.deps.queues.add("syncUsage", { syncId: id, trigger: "manual" }, { jobId: id });
  await waitFor(id, async () => (await syncStatus(h, id)) === "completed");
  await waitFor("drained", () => drained(h));
}

beforeAll(async () => {
  h = await createHarness({ aggregation: "off" });
  const [free, standard] = await h.addCustomers(["cust_free", "cust_std"]);
  await h.deps.database.db
    .update(customers)
    .set({ tier: "free" })
    .where(eq(customers.id, free?.id ?? ""));
  stdId = standard?.id ?? "";
  // The langfuse lag is 900 s: usage two hours ago is in a closed window.
  at = Math.max(
    now - 2 * HOUR,
    Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1) + 60_000,
  );
  chat("t-free-1", "cust_free", 50_000, at); // 5,000 Sparks
  chat("t-free-2", "cust_free", 35_000, at + 1_000); // 3,500 Sparks → 8,500 = 85% of 10,000
  chat("t-std-1", "cust_std", 200_000, at + 2_000); // 20,000 Sparks, unlimited tier
  h.startWorkers();
}, 90_000);

afterAll(() => h?.close());

it("keeps the /quota counters current and raises the free tier's 80% alert once per month", async () => {
  await sync("sync-counters-1");
  const counters = new UsageCounters({ redis: h.redis.connection, prefix: h.deps.queues.prefix });
  const month = monthOf(new Date(at));
  expect((await counters.get("cust_free", month))?.sparks).toBe(8_500);
  expect((await counters.get(stdId, month))?.sparks).toBe(20_000);

  const alertJobs = async () =>
    (
      await h.deps.queues.queue("alerts").getJobs(["waiting", "active", "completed", "failed", "delayed"])
    ).map((j) => j.data as { kind: string; dedupeKey: string });
  const kinds = (await alertJobs()).map((a) => `${a.kind} ${a.dedupeKey}`);
  expect(kinds).toContain(`quota_80 quota:80:cust_free:${month}`);
  expect(kinds.some((k) => k.startsWith("quota_100"))).toBe(false);
  expect(kinds.some((k) => k.includes(stdId))).toBe(false);

  // Redis loses the counter: the next sync writes it again from the ledger.
  await h.redis.connection.del(counters.key("cust_free", month));
  await sync("sync-counters-2");
  expect((await counters.get("cust_free", month))?.sparks).toBe(8_500);
});
