import { QuotaStore } from "@sparks/queues";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BillingHarness, createBillingHarness, testClock } from "./billing.harness";

let h: BillingHarness;
const MONTH = "2026-03";

beforeAll(async () => {
  h = await createBillingHarness({ stripe: false, clock: testClock("2026-03-15T12:00:00Z") });
});
afterAll(async () => {
  await h?.close();
});

async function customer(auth0UserId: string, tier: "free" | "standard" | "enterprise" = "free") {
  return (await h.app.customers.insert({ auth0UserId, tier, status: "active" })).id;
}

const service = () => ({ authorization: `Bearer ${h.actionSecret}` });

async function post(url: string, payload: unknown, headers: Record<string, string> = service()) {
  const res = await h.app.inject({ method: "POST", url, headers, payload: payload as object });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

async function quota(id: string) {
  const res = await h.app.inject({ method: "GET", url: `/quota?customer_id=${id}`, headers: service() });
  return res.json() as Record<string, unknown>;
}

describe("POST /quota/reserve is atomic", () => {
  it("500 concurrent reservations of 1 Spark at 9,990 of 10,000: exactly 10 are allowed", async () => {
    const id = await customer("auth0|race");
    await h.counters.setMonthTotal(id, MONTH, 9_990);
    const answers = await Promise.all(
      Array.from({ length: 500 }, () => post("/quota/reserve", { customer_id: id, sparks: 1 })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const allowed = answers.filter((a) => a.body.allowed === true);
    expect(allowed).toHaveLength(10);
    expect(new Set(allowed.map((a) => a.body.reservation_id)).size).toBe(10);
    const denied = answers.filter((a) => a.body.allowed === false);
    expect(denied.every((a) => a.body.reason === "quota_exceeded" && a.body.reservation_id === null)).toBe(
      true,
    );
    // GET /quota counts billed + held: the customer stands at its limit.
    expect(await quota(id)).toMatchObject({ used: 10_000, billed: 9_990, held: 10, allowed: false });
  });

  it("settle releases the hold; settling twice is 409, an unknown id 404", async () => {
    const id = await customer("auth0|settle");
    await h.counters.setMonthTotal(id, MONTH, 9_000);
    const r = await post("/quota/reserve", { customer_id: id, sparks: 1_000 });
    expect(r.body).toMatchObject({ allowed: true, remaining: 0 });
    expect(typeof r.body.expires_at).toBe("string");
    expect((await post("/quota/reserve", { customer_id: id, sparks: 1 })).body.allowed).toBe(false);
    const settled = await post("/quota/settle", { reservation_id: r.body.reservation_id });
    expect(settled.status).toBe(200);
    expect(settled.body).toMatchObject({ settled: true, customer_id: id, held_sparks: 1_000 });
    expect(await quota(id)).toMatchObject({ used: 9_000, held: 0, allowed: true });
    const again = await post("/quota/settle", { reservation_id: r.body.reservation_id });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("reservation_settled");
    const unknown = await post("/quota/settle", { reservation_id: "rsv_000000000000000000000000" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/^reservation_id: /);
  });

  it("settling with the real usage keeps that much held until the refresh has read it", async () => {
    const id = await customer("auth0|bridge");
    const r = await post("/quota/reserve", { customer_id: id, sparks: 500 });
    await post("/quota/settle", { reservation_id: r.body.reservation_id, sparks: 120, trace_id: "t-1" });
    expect(await quota(id)).toMatchObject({ used: 120, held: 120 });
  });

  it("an unsettled reservation expires at its ttl", async () => {
    const id = await customer("auth0|ttl");
    await h.counters.setMonthTotal(id, MONTH, 9_999);
    const r = await post("/quota/reserve", { customer_id: id, sparks: 1, ttl_seconds: 1 });
    expect(r.body.allowed).toBe(true);
    expect((await post("/quota/reserve", { customer_id: id, sparks: 1 })).body.allowed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(await quota(id)).toMatchObject({ held: 0, used: 9_999 });
    const late = await post("/quota/settle", { reservation_id: r.body.reservation_id });
    expect(late.status).toBe(404);
    expect((await post("/quota/reserve", { customer_id: id, sparks: 1 })).body.allowed).toBe(true);
  });

  it("never limits a standard customer without a cap, but still records the hold", async () => {
    const id = await customer("auth0|std-res", "standard");
    await h.counters.setMonthTotal(id, MONTH, 50_000_000);
    const r = await post("/quota/reserve", { customer_id: id, sparks: 1_000_000 });
    expect(r.body).toMatchObject({ allowed: true, remaining: null, reason: null });
    expect(await quota(id)).toMatchObject({ held: 1_000_000, allowed: true, limit: null });
  });
});

describe("bad input names the field", () => {
  it.each([
    [{ customer_id: "auth0|nobody-here", sparks: 1 }, 404, /^customer_id: /],
    [{ customer_id: "x", sparks: -1 }, 400, /sparks/],
    [{ customer_id: "x", sparks: 0 }, 400, /sparks/],
    [{ customer_id: "x", sparks: 1.5 }, 400, /sparks/],
    [{ customer_id: "x", sparks: 1e12 }, 400, /sparks/],
    [{ customer_id: "x", sparks: "10" }, 400, /sparks/],
    [{ customer_id: "x", sparks: 1, ttl_seconds: 0 }, 400, /ttl_seconds/],
    [{ customer_id: "x", sparks: 1, ttl_seconds: 86_400 }, 400, /ttl_seconds/],
    [{ customer_id: "a\u0000b", sparks: 1 }, 400, /customer_id/],
    [{ customer_id: "a\uD800b", sparks: 1 }, 400, /customer_id/],
    [{ sparks: 1 }, 400, /customer_id/],
  ])("reserve %j → %i", async (body, status, message) => {
    const res = await post("/quota/reserve", body);
    expect(res.status).toBe(status);
    expect(String(res.body.message)).toMatch(message);
  });

  it("settle refuses a missing id, a NUL and a negative amount", async () => {
    expect((await post("/quota/settle", {})).status).toBe(400);
    expect((await post("/quota/settle", { reservation_id: "rsv_\u0000" })).status).toBe(400);
    const neg = await post("/quota/settle", { reservation_id: "rsv_x", sparks: -5 });
    expect(neg.status).toBe(400);
    expect(String(neg.body.message)).toMatch(/sparks/);
  });

  it("a customer token may reserve for itself only; another's reservation looks unknown", async () => {
    const alice = await customer("auth0|res-alice");
    await customer("auth0|res-bob");
    const aliceToken = { authorization: `Bearer ${await h.token("auth0|res-alice")}` };
    const bobToken = { authorization: `Bearer ${await h.token("auth0|res-bob")}` };
    const own = await post("/quota/reserve", { customer_id: "auth0|res-alice", sparks: 5 }, aliceToken);
    expect(own.body.allowed).toBe(true);
    expect((await post("/quota/reserve", { customer_id: alice, sparks: 5 }, bobToken)).status).toBe(403);
    expect((await post("/quota/settle", { reservation_id: own.body.reservation_id }, bobToken)).status).toBe(
      404,
    );
    expect(
      (await post("/quota/settle", { reservation_id: own.body.reservation_id }, aliceToken)).status,
    ).toBe(200);
    expect((await post("/quota/reserve", { customer_id: alice, sparks: 5 }, {})).status).toBe(401);
  });
});

describe("spend caps (PUT /quota/cap)", () => {
  async function put(payload: unknown, admin = true) {
    const token = await h.token("auth0|ops", admin);
    const res = await h.app.inject({
      method: "PUT",
      url: "/quota/cap",
      headers: { authorization: `Bearer ${token}` },
      payload: payload as object,
    });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  }

  it("a hard USD cap refuses at 100% with spend_cap_exceeded; reservations fit under it", async () => {
    const id = await customer("auth0|capped", "standard");
    const set = await put({ customer_id: id, unit: "usd", amount: "25.50" });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ unit: "usd", amount: "25.50", sparks: 25_500, soft: false });
    await h.counters.setMonthTotal(id, MONTH, 25_000);
    expect(await quota(id)).toMatchObject({ allowed: true, limit: 25_500, remaining: 500 });
    expect((await post("/quota/reserve", { customer_id: id, sparks: 501 })).body).toMatchObject({
      allowed: false,
      reason: "spend_cap_exceeded",
    });
    expect((await post("/quota/reserve", { customer_id: id, sparks: 500 })).body.allowed).toBe(true);
    expect(await quota(id)).toMatchObject({ allowed: false, reason: "spend_cap_exceeded", used: 25_500 });
  });

  it("a soft cap reports the limit but never refuses", async () => {
    const id = await customer("auth0|soft", "enterprise");
    expect((await put({ customer_id: id, unit: "sparks", amount: 1_000, soft: true })).status).toBe(200);
    await h.counters.setMonthTotal(id, MONTH, 5_000);
    expect(await quota(id)).toMatchObject({ allowed: true, reason: null, limit: 1_000, remaining: 0 });
    expect((await post("/quota/reserve", { customer_id: id, sparks: 100 })).body.allowed).toBe(true);
  });

  it("refuses a free customer, a non-admin, and a malformed amount, naming the field", async () => {
    const free = await customer("auth0|free-cap");
    const r1 = await put({ customer_id: free, unit: "usd", amount: "10" });
    expect(r1.status).toBe(400);
    expect(String(r1.body.message)).toMatch(/^customer_id: /);
    const std = await customer("auth0|std-cap", "standard");
    expect((await put({ customer_id: std, unit: "usd", amount: "10" }, false)).status).toBe(403);
    for (const amount of ["-1", "0", "1e3", "abc", 1.5e20]) {
      const res = await put({ customer_id: std, unit: "usd", amount });
      expect(res.status).toBe(400);
      expect(String(res.body.message)).toMatch(/amount/);
    }
    const unit = await put({ customer_id: std, unit: "eur", amount: "10" });
    expect(unit.status).toBe(400);
    expect(String(unit.body.message)).toMatch(/unit/);
  });
});

describe("GET /usage/report shows provisional usage apart from billed", () => {
  it("a provisional block: open-window Sparks and held Sparks, not in the billed totals", async () => {
    const id = await customer("auth0|report-prov");
    await new QuotaStore({ redis: h.redis, prefix: h.prefix }).replaceProvisional(
      MONTH,
      new Map([[id, 250]]),
    );
    expect((await post("/quota/reserve", { customer_id: id, sparks: 100 })).body.allowed).toBe(true);
    const token = await h.token("auth0|report-prov");
    const res = await h.app.inject({
      method: "GET",
      url: `/usage/report?month=${MONTH}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as Record<string, unknown>;
    expect(body.provisional).toMatchObject({ month_is_open: true, sparks: 250, held: 100, counters: "live" });
    // Billed figures stay the ledger's: nothing provisional is in them.
    expect(body.total_sparks ?? body.totals).not.toBe(250);
    expect(await quota(id)).toMatchObject({ billed: 0, provisional: 250, held: 100, used: 350 });
    const past = await h.app.inject({
      method: "GET",
      url: "/usage/report?month=2026-02",
      headers: { authorization: `Bearer ${token}` },
    });
    expect((past.json() as Record<string, unknown>).provisional).toMatchObject({
      month_is_open: false,
      sparks: 0,
    });
  });
});
