import { CustomerRepository, type CustomerRow } from "@sparks/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "./api-harness";
import { seedUsageItems } from "./browser/usage-seed";

let h: ApiHarness;
let customer: CustomerRow;

beforeAll(async () => {
  h = await createApiHarness();
  customer = await new CustomerRepository(h.db.database.db).insert({
    auth0UserId: "auth0|page-a",
    stripeCustomerId: "cus_page_a",
    tier: "standard",
  });
  await seedUsageItems(h.db.database.db, customer, [
    // Two categories on the 3rd, one late on the 3rd UTC (still the 3rd), one on the 9th.
    {
      traceId: "t1",
      category: "ai_tokens",
      at: "2026-05-03T00:00:00Z",
      quantity: "1000",
      unit: "tokens",
      exact: "100",
    },
    {
      traceId: "t2",
      category: "compute",
      at: "2026-05-03T23:59:59Z",
      quantity: "90",
      unit: "ms",
      exact: "0.075",
    },
    {
      traceId: "t3",
      category: "ai_tokens",
      at: "2026-05-03T12:00:00Z",
      quantity: "2500",
      unit: "tokens",
      exact: "250",
    },
    {
      traceId: "t4",
      category: "storage",
      at: "2026-05-09T08:00:00Z",
      quantity: "7.3",
      unit: "GB-hours",
      exact: "5",
    },
    // Not counted, so not in the daily numbers either.
    {
      traceId: "t5",
      category: "compute",
      at: "2026-05-09T09:00:00Z",
      quantity: "-1",
      unit: "ms",
      exact: "0",
      status: "quarantined",
      reason: "negative compute_ms",
    },
    // Another month.
    {
      traceId: "t6",
      category: "ai_tokens",
      at: "2026-04-30T23:59:59Z",
      quantity: "1000",
      unit: "tokens",
      exact: "100",
    },
  ]);
});
afterAll(async () => {
  await h?.close();
});

describe("GET /usage (the page)", () => {
  it("is public HTML that loads only its own script and style, under a strict CSP", async () => {
    const res = await h.app.inject({ method: "GET", url: "/usage" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.headers["x-frame-options"]).toBe("DENY");
    // Every referenced resource is same-origin and carries the content hash.
    const refs = [...res.body.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]);
    expect(refs).toHaveLength(2);
    for (const ref of refs) expect(ref).toMatch(/^\/usage\/assets\/usage-page\.(js|css)\?v=[0-9a-f]{12}$/);
    expect(res.body).not.toMatch(/<script>[^<]/);
    expect(res.body).not.toContain("{{version}}");
  });

  it("serves the script and the stylesheet with their content types; unknown assets are 404", async () => {
    const js = await h.app.inject({ method: "GET", url: "/usage/assets/usage-page.js" });
    expect(js.statusCode).toBe(200);
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.body).toContain("access_token");
    const css = await h.app.inject({ method: "GET", url: "/usage/assets/usage-page.css" });
    expect(css.statusCode).toBe(200);
    expect(css.headers["content-type"]).toBe("text/css; charset=utf-8");
    const missing = await h.app.inject({ method: "GET", url: "/usage/assets/..%2Fapi-deps.ts" });
    expect(missing.statusCode).toBe(404);
    expect(missing.body).not.toContain("RouteDeps");
  });

  it("the report the page draws still needs a token", async () => {
    const res = await h.app.inject({ method: "GET", url: "/usage/report?month=2026-05" });
    expect(res.statusCode).toBe(401);
  });
});

describe("GET /usage/report daily breakdown", () => {
  it("sums counted Sparks per UTC day and category, exactly, and leaves out empty days", async () => {
    const token = await h.auth0.mintToken({ sub: "auth0|page-a" });
    const res = await h.app.inject({
      method: "GET",
      url: "/usage/report?month=2026-05",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.daily).toEqual([
      { date: "2026-05-03", sparks: "350.075", items: 3, categories: { ai_tokens: "350", compute: "0.075" } },
      { date: "2026-05-09", sparks: "5", items: 1, categories: { storage: "5" } },
    ]);
    expect(report.total_sparks).toBe("355.075");
  });
});
