import { CustomerRepository } from "@sparks/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "./api-harness";
import { isPublic, listRoutes, type RouteRef } from "./security-routes";

/**
 * Issue 9 item 4: every token attack against EVERY protected route (read from Fastify's route
 * tree, Bull Board included), admin claimed anywhere but the verified token, and customer A
 * reaching for customer B's data on every route.
 */

let h: ApiHarness;
let routes: RouteRef[];
let protectedRoutes: RouteRef[];
let customerA: { id: string; auth0UserId: string };
let customerB: { id: string; auth0UserId: string };
let tokenA: string;

const ADMIN_USER = "ops";
const ADMIN_PASSWORD = "operator-password-9f3c2a";

beforeAll(async () => {
  h = await createApiHarness({
    env: {
      SPARKS_ADMIN_USER: ADMIN_USER,
      SPARKS_ADMIN_PASSWORD: ADMIN_PASSWORD,
      AUTH0_ACTION_SECRET: "action-secret-7d1e0b5c9a",
    },
  });
  routes = listRoutes(h.app);
  protectedRoutes = routes.filter((r) => !isPublic(r));
  const repo = new CustomerRepository(h.db.database.db);
  const a = await repo.insert({
    auth0UserId: "auth0|alice",
    stripeCustomerId: "cus_alice_stripe",
    tier: "standard",
  });
  const b = await repo.insert({ auth0UserId: "auth0|bob", stripeCustomerId: "cus_bob_stripe", tier: "free" });
  customerA = { id: a.id, auth0UserId: "auth0|alice" };
  customerB = { id: b.id, auth0UserId: "auth0|bob" };
  tokenA = await h.auth0.mintToken({ sub: customerA.auth0UserId });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

function call(
  route: RouteRef,
  headers: Record<string, string>,
  opts: { query?: string; body?: unknown } = {},
) {
  const url = opts.query ? `${route.url}${route.url.includes("?") ? "&" : "?"}${opts.query}` : route.url;
  const hasBody = !["GET", "HEAD", "DELETE"].includes(route.method);
  return h.app.inject({
    method: route.method as "GET",
    url,
    headers: { ...headers, ...(hasBody ? { "content-type": "application/json" } : {}) },
    ...(hasBody ? { payload: JSON.stringify(opts.body ?? {}) } : {}),
  });
}

it("finds the routes to attack (Bull Board, usage, quota, subscriptions, metrics…)", () => {
  const patterns = new Set(protectedRoutes.map((r) => r.pattern));
  for (const must of [
    "/me",
    "/metrics",
    "/quota",
    "/usage/report",
    "/subscriptions/update",
    "/admin/queues",
  ]) {
    expect(patterns, must).toContain(must);
  }
  expect(protectedRoutes.filter((r) => r.pattern.startsWith("/admin/queues")).length).toBeGreaterThan(20);
});

describe("every protected route refuses every bad credential", () => {
  const sub = "auth0|alice";
  const admin = ["billing:admin"];
  const attacks: Array<[string, () => Promise<string | undefined>]> = [
    ["no Authorization header", async () => undefined],
    ["a malformed bearer", async () => "Bearer not.a.jwt"],
    ["an empty bearer", async () => "Bearer "],
    ["a bearer with two tokens", async () => `Bearer ${tokenA} ${tokenA}`],
    [
      "alg: none claiming admin",
      async () => `Bearer ${h.auth0.attacks.algNone({ sub, permissions: admin })}`,
    ],
    [
      "HS256 signed with the RSA public key",
      async () => `Bearer ${await h.auth0.attacks.hs256WithPublicKey({ sub, permissions: admin })}`,
    ],
    [
      "another key under the real kid",
      async () => `Bearer ${await h.auth0.attacks.otherKey({ sub, permissions: admin })}`,
    ],
    ["an unknown kid", async () => `Bearer ${await h.auth0.attacks.unknownKid({ sub, permissions: admin })}`],
    [
      "a payload tampered to admin",
      async () => `Bearer ${await h.auth0.attacks.tamperedPayload({ sub }, { permissions: admin })}`,
    ],
    [
      "a wrong issuer",
      async () =>
        `Bearer ${await h.auth0.mintToken({ sub, permissions: admin, issuer: "https://evil.example/" })}`,
    ],
    [
      "a wrong audience",
      async () =>
        `Bearer ${await h.auth0.mintToken({ sub, permissions: admin, audience: "https://other.example/api" })}`,
    ],
    [
      "an expired token",
      async () => `Bearer ${await h.auth0.mintToken({ sub, permissions: admin, expiresIn: -60 })}`,
    ],
    [
      "nbf in the future",
      async () =>
        `Bearer ${await h.auth0.mintToken({ sub, permissions: admin, notBefore: 3600, expiresIn: 7200 })}`,
    ],
    ["wrong operator password", async () => `Basic ${Buffer.from(`${ADMIN_USER}:wrong`).toString("base64")}`],
  ];

  for (const [name, make] of attacks) {
    it(name, async () => {
      const authorization = await make();
      const accepted: string[] = [];
      for (const route of protectedRoutes) {
        const res = await call(route, authorization === undefined ? {} : { authorization });
        if (res.statusCode !== 401) accepted.push(`${route.method} ${route.pattern} → ${res.statusCode}`);
      }
      expect(accepted).toEqual([]);
    });
  }
});

describe("admin claimed anywhere but the verified token", () => {
  it("changes nothing: same status with and without the claims, and never 2xx on admin routes", async () => {
    const plain = { authorization: `Bearer ${tokenA}` };
    const claimed = {
      ...plain,
      "x-permissions": "billing:admin",
      "x-role": "admin",
      "x-scope": "billing:admin",
    };
    const query = "role=admin&permissions=billing:admin&scope=billing:admin";
    const body = { permissions: ["billing:admin"], role: "admin", scope: "billing:admin" };
    const differences: string[] = [];
    let adminOnly = 0;
    for (const route of protectedRoutes) {
      const base = await call(route, plain);
      const escalated = await call(route, claimed, { query, body });
      if (base.statusCode === 403) {
        adminOnly++;
        if (escalated.statusCode !== 403)
          differences.push(`${route.method} ${route.pattern}: 403 → ${escalated.statusCode}`);
      }
      if (escalated.statusCode < 300 && base.statusCode >= 300) {
        differences.push(`${route.method} ${route.pattern}: ${base.statusCode} → ${escalated.statusCode}`);
      }
    }
    expect(differences).toEqual([]);
    // Bull Board, /metrics (operator set), /usage/sync, /usage/errors… are admin-only.
    expect(adminOnly).toBeGreaterThan(20);
  });
});

describe("customer A never reads or changes customer B", () => {
  it("on every protected route, B named in the query or the body", async () => {
    const before = await new CustomerRepository(h.db.database.db).findById(customerB.id);
    const leaks: string[] = [];
    const secrets = [customerB.id, customerB.auth0UserId, "cus_bob_stripe"];
    for (const route of protectedRoutes) {
      for (const ref of [customerB.id, customerB.auth0UserId]) {
        const month = new Date().toISOString().slice(0, 7);
        const res = await call(
          route,
          { authorization: `Bearer ${tokenA}` },
          {
            query: `customer_id=${encodeURIComponent(ref)}&month=${month}`,
            body: { customer_id: ref, subscription_tier: "enterprise", custom_quota: 5 },
          },
        );
        const text = res.body;
        if (res.statusCode < 300 && secrets.some((s) => text.includes(s))) {
          leaks.push(`${route.method} ${route.pattern} (${ref}) → ${res.statusCode}`);
        }
        if (res.statusCode >= 500) leaks.push(`${route.method} ${route.pattern} → ${res.statusCode}`);
      }
    }
    expect(leaks).toEqual([]);
    const after = await new CustomerRepository(h.db.database.db).findById(customerB.id);
    expect(after).toEqual(before);
  });

  it("the named routes answer 403 for B and serve A's own data", async () => {
    const auth = { authorization: `Bearer ${tokenA}` };
    const month = new Date().toISOString().slice(0, 7);
    for (const url of [
      `/quota?customer_id=${customerB.id}`,
      `/quota?customer_id=${encodeURIComponent(customerB.auth0UserId)}`,
      `/usage/report?month=${month}&customer_id=${customerB.id}`,
      `/usage/report?month=${month}&customer_id=${customerB.id}&format=csv`,
      `/usage/report?month=${month}&customer_id=${customerB.id}&detail=items`,
    ]) {
      const res = await h.app.inject({ method: "GET", url, headers: auth });
      expect(res.statusCode, url).toBe(403);
    }
    const update = await h.app.inject({
      method: "POST",
      url: "/subscriptions/update",
      headers: auth,
      payload: { customer_id: customerB.id, subscription_tier: "enterprise" },
    });
    expect(update.statusCode).toBe(403);
    const own = await h.app.inject({ method: "GET", url: "/quota", headers: auth });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ customer_id: customerA.id });
  });

  it("Bull Board: a customer token sees no queue, no job, and cannot act", async () => {
    const auth = { authorization: `Bearer ${tokenA}` };
    for (const [method, url] of [
      ["GET", "/admin/queues"],
      ["GET", "/admin/queues/api/queues"],
      ["PUT", "/admin/queues/api/queues/sync-usage/retry/failed"],
      ["PUT", "/admin/queues/api/queues/sync-usage/obliterate"],
      ["POST", "/admin/queues/api/queues/sync-usage/add"],
    ] as const) {
      const res = await h.app.inject({
        method,
        url,
        headers: auth,
        ...(method === "GET" ? {} : { payload: {} }),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
    const operator = `Basic ${Buffer.from(`${ADMIN_USER}:${ADMIN_PASSWORD}`).toString("base64")}`;
    const ok = await h.app.inject({
      method: "GET",
      url: "/admin/queues/api/queues",
      headers: { authorization: operator },
    });
    expect(ok.statusCode).toBe(200);
  });
});
