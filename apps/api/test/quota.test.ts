import { createRedisConnection, QuotaStore } from "@sparks/queues";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchedQuotaReader } from "../src/use-cases/batched-quota.reader";
import { type BillingHarness, createBillingHarness, testClock } from "./billing.harness";

let h: BillingHarness;
const MONTH = "2026-03";

beforeAll(async () => {
  h = await createBillingHarness({ stripe: false, clock: testClock("2026-03-31T23:59:00Z") });
});
afterAll(async () => {
  await h?.close();
});

interface Seed {
  auth0UserId: string;
  tier?: "free" | "standard" | "enterprise";
  status?: "active" | "paused";
  customQuota?: number | null;
}

async function customer(seed: Seed): Promise<string> {
  const row = await h.app.customers.insert({
    auth0UserId: seed.auth0UserId,
    tier: seed.tier ?? "free",
    status: seed.status ?? "active",
    pauseReason: seed.status === "paused" ? "payment_failed" : null,
    customQuota: seed.customQuota ?? null,
  });
  return row.id;
}

async function quota(authorization: string | undefined, customerId?: string) {
  const res = await h.app.inject({
    method: "GET",
    url: customerId === undefined ? "/quota" : `/quota?customer_id=${encodeURIComponent(customerId)}`,
    headers: authorization === undefined ? {} : { authorization },
  });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

const service = () => `Bearer ${h.actionSecret}`;

describe("GET /quota for the free tier (10,000 Sparks a month)", () => {
  it.each([
    [9_999, true, 1, null],
    [10_000, false, 0, "quota_exceeded"],
    [10_001, false, 0, "quota_exceeded"],
  ])("at %i Sparks used: allowed %s, remaining %i", async (used, allowed, remaining, reason) => {
    const id = await customer({ auth0UserId: `auth0|free-${used}` });
    await h.counters.setMonthTotal(id, MONTH, used);
    const res = await quota(service(), id);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      customer_id: id,
      month: MONTH,
      allowed,
      tier: "free",
      limit: 10_000,
      used,
      remaining,
      billed: used,
      provisional: 0,
      held: 0,
      reason,
      counters: "live",
      cap: null,
      features: {
        unlimited_usage: false,
        csv_export: false,
        priority_support: false,
        custom_quota: false,
        negotiated_rate: false,
      },
    });
  });

  it("counts nothing for a customer without a counter yet", async () => {
    const id = await customer({ auth0UserId: "auth0|fresh" });
    expect((await quota(service(), "auth0|fresh")).body).toMatchObject({
      customer_id: id,
      used: 0,
      allowed: true,
    });
  });

  it("resets on the 1st (UTC): the new month reads a new counter", async () => {
    const id = await customer({ auth0UserId: "auth0|rollover" });
    await h.counters.setMonthTotal(id, MONTH, 12_000);
    expect((await quota(service(), id)).body).toMatchObject({ allowed: false, used: 12_000 });
    h.clock.set("2026-04-01T00:00:00Z");
    try {
      expect((await quota(service(), id)).body).toMatchObject({ month: "2026-04", allowed: true, used: 0 });
    } finally {
      h.clock.set("2026-03-31T23:59:00Z");
    }
  });
});

describe("GET /quota for paused, standard and enterprise customers", () => {
  it("refuses a customer paused by a failed payment, whatever its usage", async () => {
    const id = await customer({ auth0UserId: "auth0|paused", tier: "standard", status: "paused" });
    const res = await quota(service(), id);
    expect(res.body).toMatchObject({ allowed: false, reason: "payment_failed", tier: "standard", used: 0 });
  });

  it("shows a pause or resume within the customer cache's 1 s", async () => {
    const id = await customer({ auth0UserId: "auth0|resumes", status: "paused" });
    expect((await quota(service(), id)).body.allowed).toBe(false);
    const db = h.db.database;
    if (db.kind !== "postgres") throw new Error("the test database is Postgres");
    await db.client`update customers set status = 'active', pause_reason = null where id = ${id}`;
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await quota(service(), id)).body).toMatchObject({ allowed: true, reason: null });
  });

  it("never limits the standard tier", async () => {
    const id = await customer({ auth0UserId: "auth0|std", tier: "standard" });
    await h.counters.setMonthTotal(id, MONTH, 5_000_000);
    expect((await quota(service(), id)).body).toMatchObject({ allowed: true, limit: null, remaining: null });
  });

  it("applies an enterprise custom quota", async () => {
    const id = await customer({ auth0UserId: "auth0|ent", tier: "enterprise", customQuota: 50_000 });
    await h.counters.setMonthTotal(id, MONTH, 49_999);
    expect((await quota(service(), id)).body).toMatchObject({ allowed: true, limit: 50_000, remaining: 1 });
    const other = await customer({ auth0UserId: "auth0|ent-full", tier: "enterprise", customQuota: 50_000 });
    await h.counters.setMonthTotal(other, MONTH, 50_000);
    const res = await quota(service(), other);
    expect(res.body).toMatchObject({ allowed: false, reason: "quota_exceeded", limit: 50_000 });
    expect(res.body.features).toMatchObject({ custom_quota: true, priority_support: true });
  });

  it("leaves an enterprise customer without a custom quota unlimited", async () => {
    const id = await customer({ auth0UserId: "auth0|ent-open", tier: "enterprise" });
    await h.counters.setMonthTotal(id, MONTH, 90_000_000);
    expect((await quota(service(), id)).body).toMatchObject({ allowed: true, limit: null });
  });
});

describe("GET /quota access", () => {
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    alice = await customer({ auth0UserId: "auth0|q-alice" });
    bob = await customer({ auth0UserId: "auth0|q-bob" });
    await h.counters.setMonthTotal(bob, MONTH, 7);
  });

  it("answers a customer its own quota, with or without naming itself", async () => {
    const token = `Bearer ${await h.token("auth0|q-alice")}`;
    expect((await quota(token)).body.customer_id).toBe(alice);
    expect((await quota(token, "auth0|q-alice")).body.customer_id).toBe(alice);
  });

  it("refuses a customer another customer's quota (403)", async () => {
    const token = `Bearer ${await h.token("auth0|q-alice")}`;
    expect((await quota(token, bob)).status).toBe(403);
    expect((await quota(token, "auth0|q-bob")).status).toBe(403);
  });

  it("answers an admin for any customer", async () => {
    const res = await quota(`Bearer ${await h.token("auth0|ops", true)}`, "auth0|q-bob");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ customer_id: bob, used: 7 });
  });

  it("needs a customer_id with the service secret, and 404s an unknown one", async () => {
    expect((await quota(service())).status).toBe(400);
    const unknown = await quota(service(), "auth0|nobody");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe("customer_not_found");
  });

  it("answers 401 without a credential or with a wrong secret", async () => {
    expect((await quota(undefined, bob)).status).toBe(401);
    expect((await quota("Bearer wrong-secret-wrong-secret", bob)).status).toBe(401);
  });
});

describe("GET /quota under concurrent load", () => {
  it("answers each of many simultaneous requests from its own customer's counter", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = await customer({ auth0UserId: `auth0|burst${i}` });
      if (i % 3 !== 0) await h.counters.setMonthTotal(id, MONTH, 100 + i);
      ids.push(id);
    }
    const answers = await Promise.all(ids.map((id) => quota(service(), id)));
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 200));
    expect(answers.map((a) => a.body.used)).toEqual(ids.map((_, i) => (i % 3 === 0 ? 0 : 100 + i)));
  });
});

describe("BatchedQuotaReader", () => {
  it("reads a batch in one command, as QuotaStore.snapshot reads one customer", async () => {
    const store = new QuotaStore({ redis: h.redis, prefix: h.prefix });
    const reader = new BatchedQuotaReader(store);
    await h.counters.setMonthTotal("cus_sparks_batch_a", MONTH, 42, 7);
    const [a, missing, again] = await Promise.all([
      reader.get("cus_sparks_batch_a", MONTH),
      reader.get("cus_sparks_batch_missing", MONTH),
      reader.get("cus_sparks_batch_a", MONTH),
    ]);
    expect(a).toEqual(await store.snapshot("cus_sparks_batch_a", MONTH));
    expect(a).toMatchObject({ billed: 42, provisional: 0, held: 0 });
    expect(missing).toMatchObject({ billed: 0, provisional: 0, held: 0 });
    expect(again).toEqual(a);
  });

  it("fails every read of a batch when Redis is unreachable (the route falls back to the ledger)", async () => {
    const dead = createRedisConnection("redis://127.0.0.1:1", "producer");
    try {
      const reader = new BatchedQuotaReader(new QuotaStore({ redis: dead }));
      const results = await Promise.allSettled([reader.get("c1", MONTH), reader.get("c2", MONTH)]);
      expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
      await expect(reader.get("c3", MONTH)).rejects.toBeDefined();
    } finally {
      dead.disconnect();
    }
  });
});

describe("UsageCounters", () => {
  it("keeps the newest version: an older total written late is ignored", async () => {
    const id = "cus_sparks_counter";
    expect(await h.counters.setMonthTotal(id, MONTH, 300, 2_000)).toBe(true);
    expect(await h.counters.setMonthTotal(id, MONTH, 200, 1_000)).toBe(false);
    expect(await h.counters.get(id, MONTH)).toEqual({ sparks: 300, version: 2_000 });
    // The same state written again (a replayed page) is a no-op with the same result.
    expect(await h.counters.setMonthTotal(id, MONTH, 300, 2_000)).toBe(true);
    // A correction may lower the total: the newest state wins, not the largest.
    expect(await h.counters.setMonthTotal(id, MONTH, 250, 3_000)).toBe(true);
    expect((await h.counters.get(id, MONTH))?.sparks).toBe(250);
  });

  it("expires a month's key after about 40 days", async () => {
    await h.counters.setMonthTotal("cus_sparks_ttl", MONTH, 1);
    const ttl = await h.redis.ttl(h.counters.key("cus_sparks_ttl", MONTH));
    expect(ttl).toBeGreaterThan(39 * 86_400);
    expect(ttl).toBeLessThanOrEqual(40 * 86_400);
  });

  it("refuses fractions, negatives and malformed months", async () => {
    await expect(h.counters.setMonthTotal("c", MONTH, 1.5)).rejects.toThrow(RangeError);
    await expect(h.counters.setMonthTotal("c", MONTH, -1)).rejects.toThrow(RangeError);
    await expect(h.counters.get("c", "2026-13")).rejects.toThrow(RangeError);
  });
});
