import { CustomerRepository } from "@sparks/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { resolveCustomerScope } from "../src";
import { type ApiHarness, createApiHarness } from "./api-harness";

let h: ApiHarness;

beforeAll(async () => {
  h = await createApiHarness({
    extend(app) {
      // Test-only routes exercising the guards that later features use.
      app.get("/test/admin-only", { config: { auth: "admin" } }, async () => ({ ok: true }));
      app.get(
        "/test/scoped",
        {
          config: { auth: "customer" },
          schema: { querystring: z.object({ customer_id: z.string().optional() }) },
        },
        async (request) =>
          resolveCustomerScope(request, (request.query as { customer_id?: string }).customer_id),
      );
      app.post("/test/echo", { config: { auth: "any" } }, async (request) => ({
        identity: request.identity,
      }));
    },
  });
});
afterAll(async () => {
  await h?.close();
});

async function me(authorization?: string) {
  const res = await h.app.inject({
    method: "GET",
    url: "/me",
    headers: authorization === undefined ? {} : { authorization },
  });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

const bearer = (token: string) => `Bearer ${token}`;

describe("GET /me rejects every bad credential with 401", () => {
  const cases: [string, () => Promise<string | undefined>, RegExp][] = [
    ["no Authorization header", async () => undefined, /missing Authorization header/],
    ["a Basic header", async () => "Basic dXNlcjpwYXNz", /must be 'Bearer/],
    ["Bearer without a token", async () => "Bearer ", /must be 'Bearer|missing/],
    ["a bearer that is not a JWT", async () => bearer("not-a-jwt"), /malformed or invalid/],
    [
      "an expired token",
      async () => bearer(await h.auth0.mintToken({ sub: "auth0|a", expiresIn: -60 })),
      /expired/,
    ],
    [
      "a token valid only in the future (nbf)",
      async () => bearer(await h.auth0.mintToken({ sub: "auth0|a", notBefore: 3600, expiresIn: 7200 })),
      /not valid yet/,
    ],
    [
      "another audience",
      async () => bearer(await h.auth0.mintToken({ sub: "auth0|a", audience: "https://other.example/api" })),
      /audience/,
    ],
    [
      "another issuer",
      async () => bearer(await h.auth0.mintToken({ sub: "auth0|a", issuer: "https://evil.example/" })),
      /issuer/,
    ],
    [
      "the issuer without its trailing slash",
      async () =>
        bearer(await h.auth0.mintToken({ sub: "auth0|a", issuer: h.auth0.issuer.replace(/\/$/, "") })),
      /issuer/,
    ],
    [
      "a token signed by another key",
      async () => bearer(await h.auth0.attacks.otherKey({ sub: "auth0|a" })),
      /signature/,
    ],
    ["an unknown kid", async () => bearer(await h.auth0.attacks.unknownKid({ sub: "auth0|a" })), /kid/],
    [
      "alg: none",
      async () => bearer(h.auth0.attacks.algNone({ sub: "auth0|a", permissions: ["billing:admin"] })),
      /./,
    ],
    [
      "HS256 signed with the public key",
      async () =>
        bearer(await h.auth0.attacks.hs256WithPublicKey({ sub: "auth0|a", permissions: ["billing:admin"] })),
      /algorithm is not allowed/,
    ],
    [
      "RS512 (only RS256 is accepted)",
      async () => bearer(await h.auth0.mintToken({ sub: "auth0|a", alg: "RS512" })),
      /algorithm is not allowed/,
    ],
    [
      "a payload tampered to grant billing:admin",
      async () =>
        bearer(await h.auth0.attacks.tamperedPayload({ sub: "auth0|a" }, { permissions: ["billing:admin"] })),
      /signature/,
    ],
  ];

  for (const [name, header, message] of cases) {
    it(name, async () => {
      const authorization = await header();
      const res = await me(authorization);
      const raw = await h.app.inject({
        method: "GET",
        url: "/me",
        headers: authorization ? { authorization } : {},
      });
      expect(raw.headers["www-authenticate"]).toBe('Bearer realm="sparks"');
      expect(res.status).toBe(401);
      expect(res.body.error).toBe("unauthorized");
      expect(res.body.message).toMatch(message);
    });
  }
});

describe("GET /me identities", () => {
  it("an admin by the permissions claim", async () => {
    const token = await h.auth0.mintToken({ sub: "auth0|admin1", permissions: ["read:x", "billing:admin"] });
    expect(await me(bearer(token))).toEqual({
      status: 200,
      body: { sub: "auth0|admin1", role: "admin", customer_id: null },
    });
  });

  it("an admin by the scope claim", async () => {
    const token = await h.auth0.mintToken({ sub: "auth0|admin2", scope: "openid billing:admin profile" });
    expect((await me(bearer(token))).body.role).toBe("admin");
  });

  it("a look-alike permission does not make an admin", async () => {
    const token = await h.auth0.mintToken({
      sub: "auth0|c0",
      scope: "billing:admins",
      permissions: ["billing"],
    });
    expect((await me(bearer(token))).body.role).toBe("customer");
  });

  it("a customer: customer_id null before signup, its id after", async () => {
    const token = await h.auth0.mintToken({ sub: "auth0|cust1", permissions: ["read:usage"] });
    expect(await me(bearer(token))).toEqual({
      status: 200,
      body: { sub: "auth0|cust1", role: "customer", customer_id: null },
    });
    const created = await new CustomerRepository(h.db.database.db).insert({
      auth0UserId: "auth0|cust1",
      stripeCustomerId: "cus_test_1",
      tier: "free",
    });
    expect(created.id).toMatch(/^cus_sparks_/);
    expect(await me(bearer(token))).toEqual({
      status: 200,
      body: { sub: "auth0|cust1", role: "customer", customer_id: created.id },
    });
  });

  it("claims in the body, query or headers never make an admin", async () => {
    const token = await h.auth0.mintToken({ sub: "auth0|c2" });
    const res = await h.app.inject({
      method: "POST",
      url: "/test/echo?permissions=billing:admin&role=admin",
      headers: { authorization: bearer(token), "x-permissions": "billing:admin", "x-role": "admin" },
      payload: { permissions: ["billing:admin"], role: "admin", scope: "billing:admin" },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ identity: { sub: "auth0|c2", role: "customer", permissions: [] } });
  });

  it("fetches the JWKS once and reuses it", async () => {
    const before = h.auth0.jwksRequests();
    for (let i = 0; i < 3; i++) {
      const res = await me(bearer(await h.auth0.mintToken({ sub: `auth0|jwks${i}` })));
      expect(res.status).toBe(200);
    }
    expect(h.auth0.jwksRequests()).toBe(before);
    expect(before).toBe(1);
  });
});

describe("route guards", () => {
  it("admin-only routes: 401 anonymous, 403 customer, 200 admin", async () => {
    const customer = await h.auth0.mintToken({ sub: "auth0|g1" });
    const admin = await h.auth0.mintToken({ sub: "auth0|g2", permissions: ["billing:admin"] });
    const call = (authorization?: string) =>
      h.app.inject({
        method: "GET",
        url: "/test/admin-only",
        headers: authorization ? { authorization } : {},
      });
    expect((await call()).statusCode).toBe(401);
    const forbidden = await call(bearer(customer));
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json()).toMatchObject({ error: "forbidden" });
    expect((await call(bearer(admin))).statusCode).toBe(200);
  });

  it("resolveCustomerScope: own by Sparks or Auth0 id, 403 for another, admin names any", async () => {
    const repo = new CustomerRepository(h.db.database.db);
    const mine = await repo.insert({ auth0UserId: "auth0|s1", tier: "standard" });
    const other = await repo.insert({ auth0UserId: "auth0|s2", tier: "free" });
    const customer = bearer(await h.auth0.mintToken({ sub: "auth0|s1" }));
    const admin = bearer(await h.auth0.mintToken({ sub: "auth0|ops", permissions: ["billing:admin"] }));
    const scoped = async (authorization: string, customerId?: string) => {
      const res = await h.app.inject({
        method: "GET",
        url: "/test/scoped",
        query: customerId === undefined ? {} : { customer_id: customerId },
        headers: { authorization },
      });
      return { status: res.statusCode, body: res.json() as Record<string, unknown> };
    };

    expect((await scoped(customer)).body).toEqual({ customerId: mine.id, auth0UserId: "auth0|s1" });
    expect((await scoped(customer, mine.id)).body.customerId).toBe(mine.id);
    expect((await scoped(customer, "auth0|s1")).body.customerId).toBe(mine.id);
    expect((await scoped(customer, other.id)).status).toBe(403);
    expect((await scoped(customer, "auth0|s2")).status).toBe(403);
    expect((await scoped(customer, "cus_sparks_doesnotexist")).status).toBe(403);

    expect((await scoped(admin, "auth0|s2")).body).toEqual({ customerId: other.id, auth0UserId: "auth0|s2" });
    expect((await scoped(admin, other.id)).body.customerId).toBe(other.id);
    expect((await scoped(admin, "auth0|nobody")).status).toBe(404);
    const missing = await scoped(admin);
    expect(missing.status).toBe(400);
    expect(missing.body.message).toMatch(/^customer_id: /);

    const unlinked = await scoped(bearer(await h.auth0.mintToken({ sub: "auth0|new" })));
    expect(unlinked.status).toBe(403);
    expect(unlinked.body.error).toBe("customer_not_linked");
  });
});

describe("when the Auth0 key set cannot be fetched", () => {
  it("answers 503 auth_unavailable, not 401 or 500", async () => {
    // Port 1 on loopback refuses connections: the tenant's JWKS endpoint is down.
    const down = await createApiHarness({
      env: { AUTH0_JWKS_URI: "http://127.0.0.1:1/.well-known/jwks.json" },
    });
    try {
      const token = await down.auth0.mintToken({ sub: "auth0|x" });
      const res = await down.app.inject({
        method: "GET",
        url: "/me",
        headers: { authorization: bearer(token) },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ error: "auth_unavailable" });
    } finally {
      await down.close();
    }
  });
});

describe("without Auth0 configured", () => {
  it("protected routes answer 503 auth_not_configured; public routes still work", async () => {
    const bare = await createApiHarness({ withoutAuth0: true });
    try {
      const res = await bare.app.inject({
        method: "GET",
        url: "/me",
        headers: { authorization: "Bearer x.y.z" },
      });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({
        error: "auth_not_configured",
        message: "set AUTH0_DOMAIN and AUTH0_AUDIENCE",
      });
      expect((await bare.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    } finally {
      await bare.close();
    }
  });
});
