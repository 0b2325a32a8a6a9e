import { Writable } from "node:stream";
import { createLogger } from "@sparks/observability";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "./api-harness";

/**
 * Issue 9 item 6 (API half; the worker half is in apps/worker/test/bad-input.test.ts): the
 * production logger at debug level captured over a run of good calls, refused tokens, bad
 * webhooks, validation errors and signups, and then searched for every secret and bearer.
 */

const SECRETS = {
  STRIPE_SECRET_KEY: "sk_test_51SecretStripeKeyForTheLogTest000000000000",
  STRIPE_WEBHOOK_SECRET: "whsec_SecretWebhookSigningValue0123456789",
  LANGFUSE_SECRET_KEY: "sk-lf-secret-langfuse-key-0123456789abcdef",
  LANGFUSE_PUBLIC_KEY: "pk-lf-public-0123",
  AUTH0_CLIENT_SECRET: "auth0-client-secret-0123456789abcdefghijklmnop",
  AUTH0_CLIENT_ID: "auth0clientid0123",
  AUTH0_ACTION_SECRET: "auth0-action-secret-0123456789abcdef",
  SPARKS_ADMIN_USER: "ops",
  SPARKS_ADMIN_PASSWORD: "operator-password-0123456789",
};
let logs = "";
let h: ApiHarness;
const bearers: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  h = await createApiHarness({
    env: { ...SECRETS, STRIPE_API_BASE: "http://127.0.0.1:1" },
    logger: createLogger({ level: "trace", destination: sink }, Object.values(SECRETS)),
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

it("logs of a realistic run hold no secret and no bearer token", async () => {
  const customer = await h.auth0.mintToken({ sub: "auth0|logs" });
  const admin = await h.auth0.mintToken({ sub: "auth0|logs-admin", permissions: ["billing:admin"] });
  const expired = await h.auth0.mintToken({ sub: "auth0|logs", expiresIn: -60 });
  const forged = await h.auth0.attacks.tamperedPayload(
    { sub: "auth0|logs" },
    { permissions: ["billing:admin"] },
  );
  bearers.push(customer, admin, expired, forged);
  const month = new Date().toISOString().slice(0, 7);
  const calls: Array<{
    method: "GET" | "POST";
    url: string;
    headers: Record<string, string>;
    payload?: unknown;
  }> = [
    { method: "GET", url: "/me", headers: { authorization: `Bearer ${customer}` } },
    { method: "GET", url: "/me", headers: { authorization: `Bearer ${expired}` } },
    { method: "GET", url: "/me", headers: { authorization: `Bearer ${forged}` } },
    { method: "GET", url: `/usage/report?month=${month}`, headers: { authorization: `Bearer ${customer}` } },
    { method: "GET", url: `/usage/report?month=bad`, headers: { authorization: `Bearer ${admin}` } },
    {
      method: "GET",
      url: "/quota?customer_id=x",
      headers: { authorization: `Bearer ${SECRETS.AUTH0_ACTION_SECRET}` },
    },
    { method: "GET", url: "/quota", headers: { authorization: `Bearer ${SECRETS.STRIPE_SECRET_KEY}` } },
    {
      method: "POST",
      url: "/auth0/signup",
      headers: { authorization: `Bearer ${SECRETS.AUTH0_ACTION_SECRET}` },
      // Stripe is unreachable (port 1): the signup fails upstream and that error is logged.
      payload: { user_id: "auth0|logs-signup", email: "a@example.com" },
    },
    { method: "POST", url: "/auth0/signup", headers: { authorization: "Bearer wrong-secret" }, payload: {} },
    {
      method: "POST",
      url: "/subscriptions/update",
      headers: { authorization: `Bearer ${admin}` },
      payload: { subscription_tier: "enterprise", customer_id: "nobody" },
    },
    {
      method: "POST",
      url: "/stripe/webhook",
      headers: { "stripe-signature": `t=1,v1=${"0".repeat(64)}`, "content-type": "application/json" },
      payload: { id: "evt_1", secret: SECRETS.STRIPE_WEBHOOK_SECRET },
    },
    {
      method: "GET",
      url: "/admin/queues/api/queues",
      headers: {
        authorization: `Basic ${Buffer.from(`${SECRETS.SPARKS_ADMIN_USER}:${SECRETS.SPARKS_ADMIN_PASSWORD}`).toString("base64")}`,
      },
    },
    {
      method: "GET",
      url: "/admin/queues/api/queues",
      headers: { authorization: `Basic ${Buffer.from("ops:wrong-password-guess").toString("base64")}` },
    },
    {
      method: "POST",
      url: "/usage/sync",
      headers: { authorization: `Bearer ${admin}` },
      payload: { from: "nope" },
    },
    {
      method: "GET",
      url: "/usage/errors",
      headers: { authorization: `Bearer ${admin}`, cookie: `session=${admin}` },
    },
  ];
  const statuses: number[] = [];
  for (const call of calls) {
    const res = await h.app.inject({
      method: call.method,
      url: call.url,
      headers: call.headers,
      ...(call.payload === undefined ? {} : { payload: call.payload as Record<string, unknown> }),
    });
    statuses.push(res.statusCode);
  }
  // The run did include successes, refusals and upstream failures.
  expect(statuses).toContain(200);
  expect(statuses).toContain(401);
  expect(statuses.some((s) => s >= 400 && s !== 401)).toBe(true);
  expect(logs.split("\n").length).toBeGreaterThan(calls.length);

  const leaks: string[] = [];
  for (const [name, value] of Object.entries(SECRETS)) {
    if (["SPARKS_ADMIN_USER", "LANGFUSE_PUBLIC_KEY", "AUTH0_CLIENT_ID"].includes(name)) continue;
    if (logs.includes(value)) leaks.push(name);
  }
  for (const [i, token] of bearers.entries()) {
    // A JWT's signature is the part that must never be written down.
    const signature = token.split(".")[2] ?? token;
    if (signature && logs.includes(signature)) leaks.push(`bearer #${i}`);
  }
  if (/Basic [A-Za-z0-9+/=]{12,}/.test(logs)) leaks.push("a Basic credential");
  expect(leaks).toEqual([]);
});
