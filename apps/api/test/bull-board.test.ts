import { loadConfig } from "@sparks/config";
import { createRedisConnection, QueueService } from "@sparks/queues";
import { createTestAuth0, createTestDatabase, createTestRedis, TEST_REDIS_URL } from "@sparks/testing";
import { Worker } from "bullmq";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../src";
import { TEST_LIMITS_ENV } from "./test-limits.env";

const OPERATOR = { user: "operator", password: "correct-horse-battery" };

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

describe("Bull Board at /admin/queues", () => {
  let app: FastifyInstance;
  let queues: QueueService;
  let close: () => Promise<void>;
  let auth0: Awaited<ReturnType<typeof createTestAuth0>>;
  let prefix: string;

  beforeAll(async () => {
    auth0 = await createTestAuth0();
    const db = await createTestDatabase();
    const testRedis = await createTestRedis();
    prefix = testRedis.prefix;
    const redis = createRedisConnection(testRedis.url, "producer");
    queues = new QueueService({ connection: redis, prefix });
    const config = loadConfig({
      ...auth0.env,
      DATABASE_URL: db.url,
      REDIS_URL: testRedis.url,
      ...TEST_LIMITS_ENV,
      SPARKS_ADMIN_USER: OPERATOR.user,
      SPARKS_ADMIN_PASSWORD: OPERATOR.password,
    });
    app = await buildApp({ config, database: db.database, redis, queues, logger: false });
    await app.ready();
    close = async () => {
      await app.close();
      await queues.close();
      redis.disconnect();
      await testRedis.cleanup();
      await db.drop();
      await auth0.close();
    };
  });
  afterAll(async () => {
    await close?.();
  });

  it("answers 401 with a Basic challenge without credentials", async () => {
    const res = await app.inject({ method: "GET", url: "/admin/queues" });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Basic realm="Sparks"/);
    const api = await app.inject({ method: "GET", url: "/admin/queues/api/queues" });
    expect(api.statusCode).toBe(401);
  });

  it("answers 401 to a wrong operator password", async () => {
    const res = await app.inject({
      method: "GET",
      url: "/admin/queues",
      headers: { authorization: basic(OPERATOR.user, "wrong-password-123") },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toMatch(/^Basic/);
  });

  it("serves the board's HTML with the operator's basic auth", async () => {
    const res = await app.inject({
      method: "GET",
      url: "/admin/queues",
      headers: { authorization: basic(OPERATOR.user, OPERATOR.password) },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(res.body).toContain('<base href="/admin/queues/"');
    expect(res.body).toContain("<title>Sparks queues</title>");
    // The page's assets sit behind the same guard (a browser resends the basic credentials).
    const asset = "/admin/queues/static/favicon-32x32.png";
    expect((await app.inject({ method: "GET", url: asset })).statusCode).toBe(401);
    const withAuth = await app.inject({
      method: "GET",
      url: asset,
      headers: { authorization: basic(OPERATOR.user, OPERATOR.password) },
    });
    expect(withAuth.statusCode).toBe(200);
  });

  it("serves it to an admin token, refuses a customer token and an invalid one", async () => {
    const admin = await auth0.mintToken({ sub: "auth0|admin", permissions: ["billing:admin"] });
    const ok = await app.inject({
      method: "GET",
      url: "/admin/queues",
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers["content-type"]).toMatch(/text\/html/);

    const customer = await auth0.mintToken({ sub: "auth0|customer" });
    const forbidden = await app.inject({
      method: "GET",
      url: "/admin/queues/api/queues",
      headers: { authorization: `Bearer ${customer}` },
    });
    expect(forbidden.statusCode).toBe(403);

    const bad = await app.inject({
      method: "GET",
      url: "/admin/queues",
      headers: {
        authorization: `Bearer ${auth0.attacks.algNone({ sub: "auth0|admin", permissions: ["billing:admin"] })}`,
      },
    });
    expect(bad.statusCode).toBe(401);
  });

  it("its API lists every catalog queue", async () => {
    const res = await app.inject({
      method: "GET",
      url: "/admin/queues/api/queues",
      headers: { authorization: basic(OPERATOR.user, OPERATOR.password) },
    });
    expect(res.statusCode).toBe(200);
    const names = (res.json() as { queues: { name: string }[] }).queues.map((q) => q.name).sort();
    expect(names).toEqual(
      queues
        .allQueues()
        .map((q) => q.name)
        .sort(),
    );
    expect(names).toContain("alerts");
    expect(names).toContain("push-meter-events");
  });

  it("retrying a failed job through its API moves it back to waiting", async () => {
    const queue = queues.queue("alerts");
    const job = await queues.add(
      "alerts",
      { kind: "sync_failures", dedupeKey: "k1", title: "t", text: "" },
      { attempts: 1 },
    );
    const connection = createRedisConnection(TEST_REDIS_URL, "worker");
    const worker = new Worker(
      queue.name,
      async () => {
        throw new Error("boom");
      },
      { connection, prefix },
    );
    try {
      for (let i = 0; i < 100 && (await queue.getJobState(job.id ?? "")) !== "failed"; i += 1) {
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await worker.close();
      connection.disconnect();
    }
    expect(await queue.getJobState(job.id ?? "")).toBe("failed");

    const auth = { authorization: basic(OPERATOR.user, OPERATOR.password) };
    const failedList = await app.inject({
      method: "GET",
      url: "/admin/queues/api/queues?activeQueue=alerts&status=failed&page=1",
      headers: auth,
    });
    const alerts = (failedList.json() as { queues: { name: string; jobs: { id: string }[] }[] }).queues.find(
      (q) => q.name === "alerts",
    );
    expect(alerts?.jobs.map((j) => j.id)).toContain(job.id);

    const retry = await app.inject({
      method: "PUT",
      url: `/admin/queues/api/queues/alerts/${job.id}/retry`,
      headers: auth,
    });
    expect(retry.statusCode).toBe(204);
    expect(await queue.getJobState(job.id ?? "")).toBe("waiting");
  });
});
