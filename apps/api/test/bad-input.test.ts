import { randomBytes } from "node:crypto";
import { webhookEvents } from "@sparks/db";
import { signStripeWebhookPayload } from "@sparks/emulators";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "./api-harness";
import { listRoutes, type RouteRef } from "./security-routes";

/**
 * Issue 19 items 4–6: NUL bytes and lone surrogates anywhere in params, query or body are a
 * 400 naming the field on every route (never a 500); months whose end is unrepresentable are
 * refused; signed webhooks carrying such text, an absurd `created` or a future timestamp are
 * refused, stored nowhere; a 500 never logs SQL parameters.
 */

const WEBHOOK_SECRET = `whsec_${randomBytes(12).toString("hex")}`;
const PARAM_CANARY = `param-canary-${randomBytes(6).toString("hex")}`;
const lines: string[] = [];
let h: ApiHarness;
let routes: RouteRef[];
let admin: string;

beforeAll(async () => {
  h = await createApiHarness({
    env: { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, AUTH0_ACTION_SECRET: "action-secret-bad-input-0123" },
    workerWaitMs: 500,
    logger: { level: "info", destination: { write: (line: string) => void lines.push(line) } },
    extend(app) {
      // A query Postgres refuses, with a parameter that must not reach the log.
      app.get("/test/failing-query", async () => {
        await h.db.database.db.execute(sql`select ${PARAM_CANARY}::int as n`);
        return {};
      });
    },
  });
  routes = listRoutes(h.app).filter(
    (r) => !r.pattern.startsWith("/docs/ui") && !r.pattern.startsWith("/test/"),
  );
  admin = `Bearer ${await h.auth0.mintToken({ sub: "auth0|bad-input-admin", permissions: ["billing:admin"] })}`;
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const BAD_TEXT: Array<[string, string]> = [
  ["a NUL byte", "cus\u0000_1"],
  ["a lone high surrogate", "cus_\ud800"],
  ["a lone low surrogate", "\udc00cus"],
];

describe("NUL bytes and lone surrogates on every route", () => {
  for (const [what, bad] of BAD_TEXT) {
    it(`${what} in the query string: 400 naming the field, or refused before (401/404), never 5xx`, async () => {
      const failures: string[] = [];
      for (const route of routes) {
        if (route.method === "HEAD") continue;
        const query = new URLSearchParams({ customer_id: bad, month: "2026-01" }).toString();
        const res = await h.app.inject({
          method: route.method as "GET",
          url: `${route.url}?${query}`,
          headers: { authorization: admin, "content-type": "application/json" },
          ...(route.method === "GET" || route.method === "DELETE" ? {} : { payload: "{}" }),
        });
        // A lone surrogate reaches a route as U+FFFD, valid text: routes that ask the worker then
        // wait for it, and no worker runs here, so that route's honest answer is worker_timeout.
        const noWorker = res.statusCode === 503 && res.json().error === "worker_timeout";
        if (res.statusCode >= 500 && !noWorker)
          failures.push(`${route.method} ${route.pattern} → ${res.statusCode}: ${res.body}`);
        // A lone surrogate cannot travel in a URL (UTF-8 percent-encoding turns it into U+FFFD),
        // so only the NUL must be named; every case must stay below 500.
        const mustName = bad.includes("\u0000") && route.pattern !== "/stripe/webhook";
        if (mustName && res.statusCode === 400 && !/customer_id/.test(res.body))
          failures.push(`${route.method} ${route.pattern} → 400 not naming customer_id: ${res.body}`);
      }
      expect(failures).toEqual([]);
    });

    it(`${what} in a JSON body field: 400 naming the field on every route with a body`, async () => {
      const failures: string[] = [];
      // JSON.stringify escapes NUL and lone surrogates (\u0000, \ud800): valid JSON that parses back to them.
      const payload = JSON.stringify({ customer_id: bad, user_id: bad, nested: { reason: bad } });
      for (const route of routes) {
        if (route.method !== "POST" && route.method !== "PUT" && route.method !== "PATCH") continue;
        const res = await h.app.inject({
          method: route.method,
          url: route.url,
          headers: { authorization: admin, "content-type": "application/json" },
          payload,
        });
        if (res.statusCode >= 500) failures.push(`${route.method} ${route.pattern} → ${res.statusCode}`);
        if (
          res.statusCode === 400 &&
          route.pattern !== "/stripe/webhook" &&
          !/customer_id|user_id/.test(res.body)
        )
          failures.push(`${route.method} ${route.pattern} → 400 not naming the field: ${res.body}`);
      }
      expect(failures).toEqual([]);
    });
  }

  it("a NUL in a path parameter is a 400 naming it", async () => {
    const res = await h.app.inject({
      method: "GET",
      url: "/usage/sync/sync%00id",
      headers: { authorization: admin },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: "bad_request" });
    expect(res.json().message).toMatch(/sync_id: must not contain a NUL/);
  });

  it("names the field on the routes the attack run hit (/quota, /usage/report, /auth0/signup)", async () => {
    const quota = await h.app.inject({
      method: "GET",
      url: "/quota?customer_id=a%00b",
      headers: { authorization: admin },
    });
    expect(quota.statusCode).toBe(400);
    expect(quota.json().message).toMatch(/^customer_id: must not contain a NUL/);
    const signup = await h.app.inject({
      method: "POST",
      url: "/auth0/signup",
      headers: { authorization: "Bearer action-secret-bad-input-0123", "content-type": "application/json" },
      payload: '{"user_id":"auth0|x\\u0000"}',
    });
    expect(signup.statusCode).toBe(400);
    expect(signup.json().message).toMatch(/^user_id: must not contain a NUL/);
  });
});

describe("months", () => {
  for (const url of ["/usage/report?month=9999-12", "/usage/reconciliation?month=9999-12"]) {
    it(`${url} is refused with a 400 naming month`, async () => {
      const res = await h.app.inject({ method: "GET", url, headers: { authorization: admin } });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toMatch(/month/);
    });
  }
});

describe("signed webhooks with unstorable or absurd content", () => {
  const nowSec = () => Math.floor(Date.now() / 1000);
  const eventBody = (overrides: Record<string, unknown>) =>
    JSON.stringify({
      id: `evt_${randomBytes(6).toString("hex")}`,
      object: "event",
      type: "invoice.paid",
      created: nowSec(),
      livemode: false,
      data: { object: { id: "in_1", object: "invoice" } },
      ...overrides,
    });
  const stored = async () => (await h.db.database.db.select().from(webhookEvents)).length;

  const cases: Array<[string, string, number?]> = [
    ["a NUL in type", eventBody({ type: "invoice.\u0000paid" })],
    ["a NUL in id", eventBody({ id: "evt_\u0000" })],
    [
      "a lone surrogate deep in data.object",
      eventBody({ data: { object: { id: "in_1", name: "x\ud800" } } }),
    ],
    ["created = 9e12", eventBody({ created: 9e12 })],
    ["created = -1", eventBody({ created: -1 })],
    ["a signature timestamp a day in the future", eventBody({}), nowSec() + 86_400],
  ];
  for (const [what, body, signedAt] of cases) {
    it(`${what}: 400, nothing stored`, async () => {
      const before = await stored();
      const res = await h.app.inject({
        method: "POST",
        url: "/stripe/webhook",
        headers: {
          "content-type": "application/json",
          "stripe-signature": signStripeWebhookPayload(body, WEBHOOK_SECRET, signedAt ?? nowSec()),
        },
        payload: body,
      });
      expect(res.statusCode).toBe(400);
      expect(await stored()).toBe(before);
    });
  }

  it("a clean signed event is still accepted", async () => {
    const body = eventBody({});
    const res = await h.app.inject({
      method: "POST",
      url: "/stripe/webhook",
      headers: {
        "content-type": "application/json",
        "stripe-signature": signStripeWebhookPayload(body, WEBHOOK_SECRET, nowSec()),
      },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
  });
});

it("a 500 logs the error without the SQL parameters", async () => {
  const res = await h.app.inject({ method: "GET", url: "/test/failing-query" });
  expect(res.statusCode).toBe(500);
  const errors = lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 50);
  expect(errors.length).toBeGreaterThan(0);
  expect(errors.join("")).toMatch(/unhandled error/);
  expect(lines.join("")).not.toContain(PARAM_CANARY);
});
