import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "./api-harness";

describe("with Redis and Postgres up", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await createApiHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("GET /healthz is 200", async () => {
    const res = await h.app.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok" });
  });

  it("GET /readyz is 200 with both checks ok", async () => {
    const res = await h.app.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.status).toBe("ready");
    expect(body.checks.redis.ok).toBe(true);
    expect(body.checks.database.ok).toBe(true);
  });

  it("GET /readyz is 503 naming the database once it is closed", async () => {
    await h.db.database.close();
    const res = await h.app.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: "not_ready",
      failed: ["database"],
      checks: { redis: { ok: true } },
    });
  });

  it("GET /metrics serves Prometheus text", async () => {
    const res = await h.app.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    expect(res.body).toContain("process_cpu_user_seconds_total");
  });
});

describe("with Redis unreachable", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    // Port 1 on loopback refuses connections: a producer connection that never comes up.
    h = await createApiHarness({ redisUrl: "redis://127.0.0.1:1" });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("GET /readyz is 503 naming redis, quickly", async () => {
    const started = Date.now();
    const res = await h.app.inject({ method: "GET", url: "/readyz" });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(body).toMatchObject({
      status: "not_ready",
      failed: ["redis"],
      checks: { database: { ok: true } },
    });
    expect(body.checks.redis.ok).toBe(false);
    expect(typeof body.checks.redis.error).toBe("string");
  });

  it("GET /healthz stays 200", async () => {
    expect((await h.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });
});
