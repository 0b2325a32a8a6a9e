import { SyncRunRepository } from "@sparks/db";
import type { EmulatedObservation } from "@sparks/emulators";
import { QuotaStore, UsageCounters } from "@sparks/queues";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { WATERMARK_NAME } from "../src/use-cases/pipeline-context";
import { refreshProvisionalUsage } from "../src/use-cases/refresh-provisional-usage.use-case";
import { createHarness, type Harness } from "./pipeline.harness";

const V2 = "GET /api/public/v2/observations";
let h: Harness;
let store: QuotaStore;
let free: string;
let paid: string;
let seq = 0;

/** One Flowise run as Langfuse stores it: a root span and a generation of `tokens` tokens. */
function run(customerRef: string, tokens: number, at: Date) {
  seq++;
  const traceId = `trace-q-${seq}`;
  const observations: EmulatedObservation[] = [
    { id: `${traceId}-root`, type: "SPAN", startTime: at, metadata: { customer_id: customerRef } },
    {
      id: `${traceId}-gen`,
      type: "GENERATION",
      startTime: new Date(at.getTime() + 5),
      parentObservationId: `${traceId}-root`,
      usageDetails: { input: tokens / 2, output: tokens / 2, total: tokens },
      metadata: { customer_id: customerRef },
    },
  ];
  h.langfuse.store.addTrace(
    { id: traceId, timestamp: at, userId: customerRef, metadata: { customer_id: customerRef } },
    observations,
  );
}

async function setTier(id: string, tier: "free" | "standard") {
  const db = h.database.database;
  if (db.kind !== "postgres") throw new Error("postgres expected");
  await db.client`update customers set tier = ${tier} where id = ${id}`;
}

/** Moves the closed boundary anywhere (the repository only moves it forward). */
async function setWatermark(at: Date) {
  const db = h.database.database;
  if (db.kind !== "postgres") throw new Error("postgres expected");
  await db.client`update sync_windows set last_closed_end = ${at.toISOString()}::timestamptz where name = ${WATERMARK_NAME}`;
}

const month = () => new Date().toISOString().slice(0, 7);

beforeAll(async () => {
  h = await createHarness();
  store = new QuotaStore({ redis: h.redis.connection, prefix: h.redis.prefix });
  const [a, b] = await h.addCustomers(["cus_quota_free", "auth0|quota-paid"]);
  free = a?.id ?? "";
  paid = b?.id ?? "";
  await setTier(free, "free");
}, 60_000);

afterAll(async () => {
  await h?.close();
});

beforeEach(() => {
  h.langfuse.store.clear();
  h.langfuse.faults.reset();
});

describe("provisional quota counters (the open Langfuse window)", () => {
  it("reads the open window in ONE request for all customers; replaced when the window closes", async () => {
    const now = Date.now();
    run("cus_quota_free", 10_000, new Date(now - 20_000)); // 1,000 Sparks
    run("cus_quota_free", 5_000, new Date(now - 10_000)); // 500 Sparks
    run("auth0|quota-paid", 20_000, new Date(now - 5_000)); // 2,000 Sparks, named by its Auth0 id
    const before = h.langfuse.stats.count({ route: V2 });
    const result = await refreshProvisionalUsage(h.deps);
    expect(result).toMatchObject({ requests: 1, observations: 6, customers: 2 });
    expect(h.langfuse.stats.count({ route: V2 }) - before).toBe(1);
    expect(await store.snapshot(free, month())).toMatchObject({
      trusted: true,
      billed: 0,
      provisional: 1_500,
    });
    expect(await store.snapshot(paid, month())).toMatchObject({ provisional: 2_000 });

    // A second run re-reads only the recent overlap, still one request, and counts nothing twice.
    await refreshProvisionalUsage(h.deps);
    expect(h.langfuse.stats.count({ route: V2 }) - before).toBe(2);
    expect((await store.snapshot(free, month())).provisional).toBe(1_500);

    // The sync closes the window: the billed counter takes the usage over, provisional drops it.
    await new SyncRunRepository(h.database.database.db).advanceWatermark(WATERMARK_NAME, new Date(now));
    await new UsageCounters({ redis: h.redis.connection, prefix: h.redis.prefix }).setMonthTotal(
      free,
      month(),
      1_500,
    );
    await refreshProvisionalUsage(h.deps);
    expect(await store.snapshot(free, month())).toMatchObject({ billed: 1_500, provisional: 0 });
    expect((await store.snapshot(paid, month())).provisional).toBe(0);
  });

  it("backs off on 429: the next runs spend no request until the back-off has passed", async () => {
    await new SyncRunRepository(h.database.database.db).advanceWatermark(WATERMARK_NAME, new Date());
    h.langfuse.faults.next429(1, 30);
    const before = h.langfuse.stats.count({ route: V2 });
    const first = await refreshProvisionalUsage(h.deps);
    expect(first).toMatchObject({ requests: 1, skipped: "backing_off" });
    expect(first.backoffMs).toBeGreaterThanOrEqual(30_000);
    const second = await refreshProvisionalUsage(h.deps);
    expect(second).toMatchObject({ requests: 0, skipped: "backing_off" });
    expect(h.langfuse.stats.count({ route: V2 }) - before).toBe(1);
    await h.redis.connection.hset(`${h.redis.prefix}:quota:prov:state`, { backoffUntil: "0" });
    expect((await refreshProvisionalUsage(h.deps)).requests).toBe(1);
  });

  it("a window bigger than one page is finished by the next runs, one request each", async () => {
    const start = Date.now() - 60_000;
    await setWatermark(new Date(start - 1_000));
    await h.redis.connection.del(`${h.redis.prefix}:quota:prov:state`, `${h.redis.prefix}:quota:prov:obs`);
    // 700 runs = 1,400 observations of 100 tokens (10 Sparks) each: 7,000 Sparks.
    for (let i = 0; i < 700; i++) run("auth0|quota-paid", 100, new Date(start + i * 50));
    const before = h.langfuse.stats.count({ route: V2 });
    await refreshProvisionalUsage(h.deps);
    expect((await store.snapshot(paid, month())).provisional).toBeLessThan(7_000);
    await refreshProvisionalUsage(h.deps);
    expect((await store.snapshot(paid, month())).provisional).toBe(7_000);
    expect(h.langfuse.stats.count({ route: V2 }) - before).toBe(2);
  });
});

describe("the quota-refresh job scheduler", () => {
  it("turns a free customer over quota within QUOTA_REFRESH_SECONDS + the ingestion delay", async () => {
    await new SyncRunRepository(h.database.database.db).advanceWatermark(WATERMARK_NAME, new Date());
    await h.redis.connection.del(`${h.redis.prefix}:quota:prov:state`, `${h.redis.prefix}:quota:prov:obs`);
    await new UsageCounters({ redis: h.redis.connection, prefix: h.redis.prefix }).setMonthTotal(
      free,
      month(),
      9_000,
      Date.now(),
    );
    h.langfuse.store.ingestionDelayMs = 2_000;
    const refreshSeconds = 1;
    h.deps.config.quota.refreshSeconds = refreshSeconds;
    await h.deps.queues
      .queue("quotaRefresh")
      .upsertJobScheduler(
        "quota-refresh",
        { every: refreshSeconds * 1000 },
        { name: "quotaRefresh", data: {} },
      );
    const workers = h.startWorkers();
    try {
      // Flowise-like traffic: 1 run of 2,000 tokens (200 Sparks) every 200 ms.
      let sent = 0;
      let crossedAt: number | null = null;
      let deniedAt: number | null = null;
      let acceptedAfterCross = 0;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && deniedAt === null) {
        const snap = await store.snapshot(free, month());
        if (snap.billed + snap.provisional + snap.held >= 10_000) {
          deniedAt = Date.now();
          break;
        }
        run("cus_quota_free", 2_000, new Date());
        sent += 200;
        if (9_000 + sent >= 10_000 && crossedAt === null) crossedAt = Date.now();
        else if (crossedAt !== null) acceptedAfterCross += 200;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(crossedAt).not.toBeNull();
      expect(deniedAt).not.toBeNull();
      const latencyMs = (deniedAt ?? 0) - (crossedAt ?? 0);
      // Refresh interval + ingestion delay (+ a second of scheduling slack on a loaded machine).
      expect(latencyMs).toBeLessThanOrEqual((refreshSeconds + 2 + 1) * 1000);
      // Overshoot: at most the traffic of refresh interval + delay (5 runs/s × 200 Sparks).
      expect(acceptedAfterCross).toBeLessThanOrEqual((refreshSeconds + 2 + 1) * 5 * 200);
    } finally {
      await workers.close();
      h.langfuse.store.ingestionDelayMs = 0;
    }
  }, 40_000);
});
