import { connect } from "node:net";
import { type Env, loadConfig } from "@sparks/config";
import { createRedisConnection, QueueService } from "@sparks/queues";
import { createTestAuth0, createTestDatabase, createTestRedis, type TestAuth0 } from "@sparks/testing";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src";

/**
 * Issue 19 item 3: rate limits shared by API processes through Redis, a tighter limit on
 * failed authentication (bearer, Bull Board Basic auth, the Auth0 action secret), a body-read
 * timeout, and an aborted body logged as info. Two apps on one Redis prefix stand for two
 * API processes.
 */

const OPERATOR = { user: "operator", password: "correct horse battery staple" };
const ACTION_SECRET = "action-secret-0123456789abcdef";

let auth0: TestAuth0;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
const opened: Array<{ app: FastifyInstance; redis: Redis; queues: QueueService }> = [];
const lines: string[] = [];

beforeAll(async () => {
  auth0 = await createTestAuth0();
  db = await createTestDatabase();
  testRedis = await createTestRedis();
});
afterAll(async () => {
  for (const o of opened) {
    await o.app.close();
    await o.queues.close();
    o.redis.disconnect();
  }
  await testRedis?.cleanup();
  await db?.drop();
  await auth0?.close();
});

/** An API process on the shared test Redis; `prefix` separates the scenarios' counters. */
async function apiProcess(prefix: string, env: Env): Promise<FastifyInstance> {
  const redis = createRedisConnection(testRedis.url, "producer");
  const queues = new QueueService({ connection: redis, prefix: `${testRedis.prefix}-${prefix}` });
  const config = loadConfig({
    ...auth0.env,
    DATABASE_URL: db.url,
    REDIS_URL: testRedis.url,
    SPARKS_ADMIN_USER: OPERATOR.user,
    SPARKS_ADMIN_PASSWORD: OPERATOR.password,
    AUTH0_ACTION_SECRET: ACTION_SECRET,
    SPARKS_RATE_LIMIT: "0",
    SPARKS_AUTH_FAILURE_LIMIT: "0",
    ...env,
  });
  const app = await buildApp({
    config,
    database: db.database,
    redis,
    queues,
    logger: { level: "info", destination: { write: (line: string) => void lines.push(line) } },
  });
  await app.ready();
  opened.push({ app, redis, queues });
  return app;
}

describe("request rate limit", () => {
  it("answers 429 with Retry-After past the limit, counted across two API processes", async () => {
    const a = await apiProcess("rate", { SPARKS_RATE_LIMIT: "6" });
    const b = await apiProcess("rate", { SPARKS_RATE_LIMIT: "6" });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const app = i % 2 === 0 ? a : b;
      statuses.push(
        (await app.inject({ method: "GET", url: "/healthz", remoteAddress: "203.0.113.7" })).statusCode,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
    const over = await b.inject({ method: "GET", url: "/healthz", remoteAddress: "203.0.113.7" });
    expect(over.statusCode).toBe(429);
    expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
    expect(over.json()).toMatchObject({ error: "too_many_requests" });
    // Another client is not affected.
    expect(
      (await a.inject({ method: "GET", url: "/healthz", remoteAddress: "203.0.113.8" })).statusCode,
    ).toBe(200);
  });
});

describe("failed authentication limit", () => {
  const attacker = "198.51.100.66";
  const goodClient = "198.51.100.10";

  it("3,000 bad bearer tokens from one client: 401 up to the limit, then 429; a good client is served", async () => {
    const app = await apiProcess("bearer", { SPARKS_AUTH_FAILURE_LIMIT: "10" });
    const counts = new Map<number, number>();
    let firstLimited = -1;
    for (let i = 0; i < 3000; i++) {
      const res = await app.inject({
        method: "GET",
        url: "/me",
        remoteAddress: attacker,
        headers: { authorization: `Bearer not-a-token-${i}` },
      });
      counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode === 429 && firstLimited < 0) {
        firstLimited = i;
        expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
      }
    }
    expect(firstLimited).toBe(10);
    expect(counts.get(401)).toBe(10);
    expect(counts.get(429)).toBe(2990);
    const token = await auth0.mintToken({ sub: "auth0|good-client" });
    const good = await app.inject({
      method: "GET",
      url: "/me",
      remoteAddress: goodClient,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(good.statusCode).toBe(200);
  }, 120_000);

  it("Bull Board Basic-auth guesses are limited per user name, from any address", async () => {
    const app = await apiProcess("basic", { SPARKS_AUTH_FAILURE_LIMIT: "5" });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const guess = Buffer.from(`${OPERATOR.user}:guess-${i}`).toString("base64");
      const res = await app.inject({
        method: "GET",
        url: "/admin/queues",
        remoteAddress: `192.0.2.${i + 1}`,
        headers: { authorization: `Basic ${guess}` },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
  });

  it("wrong Auth0 action secrets on /auth0/signup are limited", async () => {
    const app = await apiProcess("signup", { SPARKS_AUTH_FAILURE_LIMIT: "3" });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await app.inject({
        method: "POST",
        url: "/auth0/signup",
        remoteAddress: attacker,
        headers: { authorization: `Bearer wrong-secret-${i}-xxxxxxxxxxxx` },
        payload: { user_id: "auth0|someone" },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});

describe("timeouts and aborted bodies", () => {
  it("a slow-body POST to /stripe/webhook is cut at the body timeout, logged at info", async () => {
    const app = await apiProcess("slow", {
      SPARKS_BODY_TIMEOUT_MS: "400",
      STRIPE_WEBHOOK_SECRET: "whsec_slowbody",
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const started = Date.now();
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.write(
          "POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
        );
      });
      // One byte every 100 ms: never idle long enough for an idle timeout.
      const drip = setInterval(() => socket.write(" "), 100);
      socket.on("close", () => {
        clearInterval(drip);
        resolve(Date.now() - started);
      });
      socket.on("error", () => undefined);
      setTimeout(() => reject(new Error("socket still open after 5 s")), 5_000).unref();
    });
    expect(closedAfter).toBeGreaterThanOrEqual(350);
    expect(closedAfter).toBeLessThan(3_000);
    await expect.poll(() => lines.some((l) => l.includes("request body not received in time"))).toBe(true);
  });

  it("an aborted webhook body is an info line, never an error with a stack", async () => {
    const app = await apiProcess("abort", { STRIPE_WEBHOOK_SECRET: "whsec_abort" });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const before = lines.length;
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.write(
            'POST /stripe/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"id":',
          );
          setTimeout(() => socket.destroy(), 50);
        });
        socket.on("close", () => resolve());
        socket.on("error", () => undefined);
      });
    }
    await new Promise((r) => setTimeout(r, 300));
    const logged = lines.slice(before).map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(logged.filter((l) => l.level >= 50)).toEqual([]);
  });
});
