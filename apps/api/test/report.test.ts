import { loadConfig } from "@sparks/config";
import { formatSparks, type UsageCategory } from "@sparks/core";
import {
  CustomerRepository,
  type CustomerRow,
  executeRows,
  MeterEventRepository,
  UsageItemRepository,
  type UsageItemStatus,
  UsageReportRepository,
} from "@sparks/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageReportUseCase } from "../src/use-cases/usage-report.use-case";
import { type ApiHarness, createApiHarness } from "./api-harness";

let h: ApiHarness;
let a: CustomerRow;
let b: CustomerRow;
let seq = 0;

interface Fixture {
  customer: CustomerRow;
  category: UsageCategory;
  at: string;
  quantity: string;
  unit: string;
  exact: string;
  costCenter: string;
  status: UsageItemStatus;
  sent?: number;
  reason?: string;
}

async function seed(f: Fixture): Promise<void> {
  seq += 1;
  const traceId = `trace-r${seq}`;
  const month = f.at.slice(0, 7);
  const items = new UsageItemRepository(h.db.database.db);
  await items.insertMany([
    {
      traceId,
      usageCategory: f.category,
      quantityRevision: 0,
      status: f.status === "sent" ? "pending" : f.status,
      customerId: f.customer.id,
      customerRef: f.customer.id,
      month,
      occurredAt: new Date(f.at),
      quantity: f.quantity,
      unit: f.unit,
      rawValue: Number(f.quantity),
      exactSparks: f.exact,
      reason: f.reason ?? null,
      costCenter: f.costCenter,
      tier: f.customer.tier,
      tierHint: null,
      syncRunId: null,
    },
  ]);
  if (f.status !== "sent" || f.sent === undefined) return;
  const group = { customerId: f.customer.id, category: f.category, month };
  const item = (await items.lockPendingOfGroup(group, 100)).find((i) => i.traceId === traceId);
  if (!item) throw new Error("fixture item not found");
  const meter = new MeterEventRepository(h.db.database.db);
  const identifier = `${f.category}-${traceId}`;
  const [id] = await meter.insertMany([
    {
      identifier,
      customerId: f.customer.id,
      stripeCustomerId: f.customer.stripeCustomerId ?? "cus_x",
      usageCategory: f.category,
      eventName: `sparks_${f.category}`,
      month,
      value: f.sent,
      eventTimestamp: new Date(f.at),
      aggregated: false,
      itemCount: 1,
    },
  ]);
  if (id === undefined) throw new Error("meter event not inserted");
  await items.assign([{ itemId: item.id, meterEventId: id, sentSparks: f.sent, identifier }]);
  await meter.markSent(id, {});
  await items.markSentByMeterEvent(id);
}

const bearer = async (sub: string, admin = false) =>
  `Bearer ${await h.auth0.mintToken({ sub, ...(admin ? { permissions: ["billing:admin"] } : {}) })}`;

async function get(url: string, authorization: string) {
  return h.app.inject({ method: "GET", url, headers: { authorization } });
}

beforeAll(async () => {
  h = await createApiHarness();
  const customers = new CustomerRepository(h.db.database.db);
  a = await customers.insert({ auth0UserId: "auth0|rep-a", stripeCustomerId: "cus_rep_a", tier: "standard" });
  b = await customers.insert({ auth0UserId: "auth0|rep-b", stripeCustomerId: "cus_rep_b", tier: "free" });
  // A started free and moved to standard on the 15th: two segments.
  await executeRows(
    h.db.database.db,
    `insert into tier_history (customer_id, tier, effective_from, effective_to, source) values
      ('${a.id}', 'free', '2026-10-20T00:00:00Z', '2026-11-15T00:00:00Z', 'signup'),
      ('${a.id}', 'standard', '2026-11-15T00:00:00Z', null, 'api'),
      ('${b.id}', 'free', '2026-10-01T00:00:00Z', null, 'signup')`,
  );
  const base = { customer: a, status: "sent" as const };
  await seed({
    ...base,
    category: "ai_tokens",
    at: "2026-11-05T10:00:00Z",
    quantity: "40000",
    unit: "tokens",
    exact: "4000",
    costCenter: "team-a",
    sent: 4000,
  });
  await seed({
    ...base,
    category: "compute",
    at: "2026-11-20T10:00:00Z",
    quantity: "8400600",
    unit: "ms",
    exact: "7000.5",
    costCenter: "team-b",
    sent: 7000,
  });
  await seed({
    ...base,
    status: "pending",
    category: "storage",
    at: "2026-11-25T10:00:00Z",
    quantity: "1.825",
    unit: "GB-hours",
    exact: "1.25",
    costCenter: 'ops, "blue"',
  });
  await seed({
    ...base,
    status: "quarantined",
    category: "compute",
    at: "2026-11-26T10:00:00Z",
    quantity: "-5",
    unit: "ms",
    exact: "0",
    costCenter: "default",
    reason: '=HYPERLINK("x") negative value',
  });
  // Another month and another customer must not leak in.
  await seed({
    ...base,
    category: "ai_tokens",
    at: "2026-10-30T10:00:00Z",
    quantity: "1000",
    unit: "tokens",
    exact: "100",
    costCenter: "team-a",
    sent: 100,
  });
  await seed({
    customer: b,
    status: "sent",
    category: "ai_tokens",
    at: "2026-11-07T10:00:00Z",
    quantity: "30000",
    unit: "tokens",
    exact: "3000",
    costCenter: "default",
    sent: 3000,
  });
  // Closed after its usage was ledgered (a close first would bill new rows as late lines).
  await executeRows(
    h.db.database.db,
    `insert into month_closes (month, status) values ('2026-11', 'closed')`,
  );
});
afterAll(async () => {
  await h?.close();
});

describe("GET /usage/report", () => {
  it("reports categories, segments, discount, USD, quota, cost centers and Stripe totals", async () => {
    const res = await get("/usage/report?month=2026-11", await bearer("auth0|rep-a"));
    expect(res.statusCode).toBe(200);
    const r = res.json();
    expect(r).toMatchObject({
      customer_id: a.id,
      month: "2026-11",
      closed: true,
      tier: "standard",
      total_sparks: "11001.75",
      total_sent_sparks: "11000",
      discount: { percent: "5", step: { over: 10000, percent: "5" } },
      // 4,000 Sparks fell in the free segment ($0); the 7,000 whole Sparks Stripe holds at $0.001
      // are a $7.00 line, 5% off the whole month (11,001 Sparks) is $0.35: what Stripe invoices.
      // The exact value of all counted usage (7,001.75 Sparks) stays beside it.
      usd: {
        rate: "0.001",
        gross: "7.00",
        discount: "0.35",
        net: "6.65",
        display: { gross: "7.00", discount: "0.35", net: "6.65" },
        exact: { gross: "7.00175", discount: "0.3500875", net: "6.6516625" },
        lines: [
          { category: "ai_tokens", tier: "free", sparks: "4000", exact: "0.00", amount: "0.00" },
          { category: "compute", tier: "standard", sparks: "7000", exact: "7.00", amount: "7.00" },
        ],
      },
      invoice: null,
      quota: { limit: null, used: 11001, remaining: null },
      not_billed: { quarantined: 1, unbillable: 0 },
    });
    expect(r.categories).toEqual([
      {
        category: "ai_tokens",
        quantity: "40000",
        unit: "tokens",
        sparks: "4000",
        whole_sparks: "4000",
        sent_sparks: "4000",
        items: 1,
      },
      {
        category: "compute",
        quantity: "8400600",
        unit: "ms",
        sparks: "7000.5",
        whole_sparks: "7000",
        sent_sparks: "7000",
        items: 1,
      },
      {
        category: "storage",
        quantity: "1.825",
        unit: "GB-hours",
        sparks: "1.25",
        whole_sparks: "1",
        sent_sparks: "0",
        items: 1,
      },
    ]);
    expect(r.tier_segments).toEqual([
      { tier: "free", from: "2026-11-01T00:00:00.000Z", to: "2026-11-15T00:00:00.000Z", sparks: "4000" },
      {
        tier: "standard",
        from: "2026-11-15T00:00:00.000Z",
        to: "2026-12-01T00:00:00.000Z",
        sparks: "7001.75",
      },
    ]);
    expect(r.cost_centers).toEqual([
      { cost_center: 'ops, "blue"', sparks: "1.25", items: 1 },
      { cost_center: "team-a", sparks: "4000", items: 1 },
      { cost_center: "team-b", sparks: "7000.5", items: 1 },
    ]);
  });

  it("a free-tier month costs $0 and shows quota against the free limit", async () => {
    const res = await get(`/usage/report?month=2026-11&customer_id=${b.id}`, await bearer("auth0|ops", true));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      tier: "free",
      total_sparks: "3000",
      closed: true,
      usd: { gross: "0.00", discount: "0.00", net: "0.00" },
      discount: { percent: "0", step: null },
      quota: { limit: 10000, used: 3000, remaining: 7000 },
    });
  });

  it("?detail=items pages through the ledger items with trace ids and meter-event identifiers", async () => {
    const auth = await bearer("auth0|rep-a");
    const first = (await get("/usage/report?month=2026-11&detail=items&limit=3", auth)).json();
    expect(first).toMatchObject({ total: 4, pages: 2, page: 1, limit: 3 });
    expect(first.items).toHaveLength(3);
    expect(first.items[0]).toMatchObject({
      trace_id: expect.stringMatching(/^trace-r/),
      category: "ai_tokens",
      sparks: "4000",
      sent_sparks: 4000,
      sent: true,
      status: "sent",
      meter_event_identifier: expect.stringMatching(/^ai_tokens-trace-r/),
    });
    const second = (await get("/usage/report?month=2026-11&detail=items&limit=3&page=2", auth)).json();
    expect(second.items).toHaveLength(1);
    expect(second.items[0]).toMatchObject({
      status: "quarantined",
      sent: false,
      meter_event_identifier: null,
    });
    const ids = [...first.items, ...second.items].map((i: { item_id: number }) => i.item_id);
    expect(new Set(ids).size).toBe(4);
  });

  it("?format=csv streams every item with RFC 4180 escaping and formula guarding", async () => {
    const res = await get("/usage/report?month=2026-11&format=csv", await bearer("auth0|rep-a"));
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/csv/);
    expect(res.headers["content-disposition"]).toMatch(/attachment; filename="sparks-usage-.*-2026-11\.csv"/);
    const lines = res.body.split("\r\n");
    expect(lines[0]).toBe(
      "item_id,trace_id,occurred_at,category,revision,quantity,unit,sparks,sent_sparks,sent,status,meter_event_identifier,cost_center,tier,reason",
    );
    expect(lines.filter((l) => l !== "")).toHaveLength(5);
    expect(res.body).toContain(',"ops, ""blue""",');
    expect(res.body).toContain(`"'=HYPERLINK(""x"") negative value"`);
    expect(res.body).toContain(",7000.5,7000,true,sent,compute-trace-r");
  });

  it("names the month in a 400 for a bad month", async () => {
    const auth = await bearer("auth0|rep-a");
    for (const month of ["2026-13", "2026-1", "nope", "1900-01"]) {
      const res = await get(`/usage/report?month=${month}`, auth);
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(/^month: /);
    }
    const missing = await get("/usage/report", auth);
    expect(missing.statusCode).toBe(400);
    expect(missing.json().message).toMatch(/month/);
  });

  it("customer A cannot read B's report (403); an admin can", async () => {
    const asA = await bearer("auth0|rep-a");
    for (const ref of [b.id, "auth0|rep-b"]) {
      expect(
        (await get(`/usage/report?month=2026-11&customer_id=${encodeURIComponent(ref)}`, asA)).statusCode,
      ).toBe(403);
      expect(
        (await get(`/usage/report?month=2026-11&format=csv&customer_id=${encodeURIComponent(ref)}`, asA))
          .statusCode,
      ).toBe(403);
    }
    const admin = await bearer("auth0|ops", true);
    const res = await get(
      `/usage/report?month=2026-11&customer_id=${encodeURIComponent("auth0|rep-b")}`,
      admin,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json().customer_id).toBe(b.id);
    expect((await get("/usage/report?month=2026-11", admin)).statusCode).toBe(400);
    expect((await h.app.inject({ method: "GET", url: "/usage/report?month=2026-11" })).statusCode).toBe(401);
  });
});

describe("GET /usage/report reads one snapshot", () => {
  let c: CustomerRow;

  beforeAll(async () => {
    const customers = new CustomerRepository(h.db.database.db);
    c = await customers.insert({
      auth0UserId: "auth0|rep-c",
      stripeCustomerId: "cus_rep_c",
      tier: "enterprise",
    });
    // Tier changes with microseconds (set by SQL clocks): the segments are cut at the
    // millisecond, as the JS Dates they are built from are.
    await executeRows(
      h.db.database.db,
      `insert into tier_history (customer_id, tier, effective_from, effective_to, source) values
        ('${c.id}', 'free', '2026-11-20T00:00:00Z', '2026-12-10T08:00:00.123456Z', 'signup'),
        ('${c.id}', 'standard', '2026-12-10T08:00:00.123456Z', '2026-12-20T00:00:00.000900Z', 'api'),
        ('${c.id}', 'enterprise', '2026-12-20T00:00:00.000900Z', null, 'api')`,
    );
    const base = { customer: c, unit: "tokens", quantity: "10", costCenter: "x", status: "pending" as const };
    await seed({ ...base, category: "ai_tokens", at: "2026-12-01T00:00:00Z", exact: "1" });
    await seed({ ...base, category: "ai_tokens", at: "2026-12-10T08:00:00.122Z", exact: "2" });
    await seed({ ...base, category: "ai_tokens", at: "2026-12-10T08:00:00.123Z", exact: "4" });
    await seed({ ...base, category: "compute", at: "2026-12-19T23:59:59.999Z", exact: "8" });
    await seed({ ...base, category: "compute", at: "2026-12-20T00:00:00Z", exact: "16" });
    await seed({ ...base, category: "compute", at: "2026-12-31T23:59:59.999Z", exact: "32" });
    await seed({ ...base, category: "compute", at: "2027-01-01T00:00:00Z", exact: "64" });
    await seed({
      ...base,
      category: "compute",
      at: "2026-12-05T00:00:00Z",
      exact: "128",
      status: "quarantined",
    });
  });

  it("splits the month at each tier change, each item in one segment", async () => {
    const r = (await get("/usage/report?month=2026-12", await bearer("auth0|rep-c"))).json();
    expect(r.tier_segments).toEqual([
      { tier: "free", from: "2026-12-01T00:00:00.000Z", to: "2026-12-10T08:00:00.123Z", sparks: "3" },
      { tier: "standard", from: "2026-12-10T08:00:00.123Z", to: "2026-12-20T00:00:00.000Z", sparks: "12" },
      { tier: "enterprise", from: "2026-12-20T00:00:00.000Z", to: "2027-01-01T00:00:00.000Z", sparks: "48" },
    ]);
    expect(r.total_sparks).toBe("63");
    expect(r.not_billed).toEqual({ quarantined: 1, unbillable: 0 });
  });

  it("answers what the ledger's separate report queries answer", async () => {
    const db = h.db.database.db;
    const repo = new UsageReportRepository(db);
    const bare = new UsageReportUseCase(db, loadConfig({ DATABASE_URL: h.db.url }));
    for (const [customer, month] of [
      [a, "2026-11"],
      [b, "2026-11"],
      [c, "2026-12"],
      [c, "2027-01"],
      [a, "2026-10"],
    ] as const) {
      const res = await get(
        `/usage/report?month=${month}&customer_id=${customer.id}`,
        await bearer("auth0|ops", true),
      );
      expect(res.statusCode).toBe(200);
      const r = res.json();
      const categories = await repo.categoryTotals(customer.id, month);
      const counts = await repo.statusCounts(customer.id, month);
      const costCenters = await repo.costCenterTotals(customer.id, month);
      const daily = await repo.dailyTotals(customer.id, month);
      const sent = await repo.sentByCategory(customer.id, month);
      expect(
        r.categories
          .filter((x: { items: number }) => x.items > 0)
          .map((x: { category: string }) => x.category),
      ).toEqual(categories.map((x) => x.category));
      expect(
        r.cost_centers.map((x: { cost_center: string; items: number }) => [x.cost_center, x.items]),
      ).toEqual(costCenters.map((x) => [x.costCenter, x.items]));
      expect(r.not_billed).toEqual({
        quarantined: counts.quarantined ?? 0,
        unbillable: counts.unbillable ?? 0,
      });
      expect(r.daily.reduce((n: number, d: { items: number }) => n + d.items, 0)).toBe(
        daily.reduce((n, d) => n + d.items, 0),
      );
      // The CLI builds it on a bare drizzle handle (no prepared statement): the same report
      // (the API adds the provisional block, read from Redis, on top).
      const { provisional, ...billed } = r;
      expect(provisional).toMatchObject({ sparks: 0 });
      expect(JSON.parse(JSON.stringify(await bare.build(customer.id, month)))).toEqual(billed);
      expect(r.total_sent_sparks).toBe([...sent.values()].reduce((x, y) => x + y, 0n).toString());
      for (const s of r.tier_segments) {
        const exact = await repo.exactBetween(customer.id, new Date(s.from), new Date(s.to));
        expect(s.sparks).toBe(formatSparks(exact));
      }
    }
  });

  it("is current: an item stored after a report shows in the next one", async () => {
    const auth = await bearer("auth0|rep-c");
    const before = (await get("/usage/report?month=2026-12", auth)).json();
    await seed({
      customer: c,
      category: "ai_tokens",
      at: "2026-12-15T00:00:00Z",
      quantity: "1",
      unit: "tokens",
      exact: "0.5",
      costCenter: "y",
      status: "pending",
    });
    const after = (await get("/usage/report?month=2026-12", auth)).json();
    expect(before.total_sparks).toBe("63");
    expect(after.total_sparks).toBe("63.5");
    expect(after.tier_segments[1].sparks).toBe("12.5");
  });
});
