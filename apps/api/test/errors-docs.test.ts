import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ConflictError } from "../src";
import { type ApiHarness, createApiHarness } from "./api-harness";

let h: ApiHarness;

beforeAll(async () => {
  h = await createApiHarness({
    extend(app) {
      app.post(
        "/test/validate",
        {
          schema: {
            body: z.object({
              month: z.string().regex(/^\d{4}-\d{2}$/, "must be YYYY-MM"),
              items: z.array(z.object({ quantity: z.number().int().nonnegative() })).optional(),
            }),
          },
        },
        async (request) => ({ received: request.body }),
      );
      app.get(
        "/test/query",
        { schema: { querystring: z.object({ limit: z.coerce.number().int().max(100) }) } },
        async () => ({
          ok: true,
        }),
      );
      app.get("/test/conflict", async () => {
        throw new ConflictError("sync already running", { sync_id: "sync_1" });
      });
      app.get("/test/boom", async () => {
        throw new Error('relation "secret_table" does not exist at /srv/app/internal.ts:42');
      });
    },
  });
});
afterAll(async () => {
  await h?.close();
});

describe("errors", () => {
  it("malformed JSON is 400 naming the body", async () => {
    const res = await h.app.inject({
      method: "POST",
      url: "/test/validate",
      headers: { "content-type": "application/json" },
      payload: '{"month": "2026-01",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: "bad_request", message: "body: is not valid JSON" });
  });

  it("a zod validation error is 400 naming the field and why", async () => {
    const res = await h.app.inject({
      method: "POST",
      url: "/test/validate",
      payload: { month: "January", items: [{ quantity: 1 }, { quantity: -3 }] },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.error).toBe("bad_request");
    expect(body.message).toContain("month: must be YYYY-MM");
    expect(body.message).toMatch(/items\.1\.quantity: /);
    expect(body.issues).toContainEqual({ field: "month", in: "body", message: "must be YYYY-MM" });
  });

  it("a missing body field is named too", async () => {
    const res = await h.app.inject({ method: "POST", url: "/test/validate", payload: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^month: /);
  });

  it("a bad query string is 400 naming the parameter", async () => {
    const res = await h.app.inject({ method: "GET", url: "/test/query?limit=1000" });
    expect(res.statusCode).toBe(400);
    expect(res.json().issues[0]).toMatchObject({ field: "limit", in: "querystring" });
  });

  it("a body over the limit is 413", async () => {
    const res = await h.app.inject({
      method: "POST",
      url: "/test/validate",
      headers: { "content-type": "application/json" },
      payload: JSON.stringify({ month: "2026-01", pad: "x".repeat(1024 * 1024 + 10) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toBe("payload_too_large");
  });

  it("an unsupported content type is 415, not 500", async () => {
    const res = await h.app.inject({
      method: "POST",
      url: "/test/validate",
      headers: { "content-type": "application/x-weird" },
      payload: "hello",
    });
    expect(res.statusCode).toBe(415);
  });

  it("unknown routes are 404 JSON", async () => {
    const res = await h.app.inject({ method: "GET", url: "/nope?x=1" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: "not_found", message: "no route GET /nope" });
  });

  it("typed HTTP errors keep their status, code and details", async () => {
    const res = await h.app.inject({ method: "GET", url: "/test/conflict" });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: "conflict", message: "sync already running", sync_id: "sync_1" });
  });

  it("unexpected errors are 500 with a request id and no internals", async () => {
    const res = await h.app.inject({ method: "GET", url: "/test/boom" });
    expect(res.statusCode).toBe(500);
    const body = res.json();
    expect(body.error).toBe("internal_error");
    expect(body.request_id).toBe(res.headers["x-request-id"]);
    expect(res.body).not.toContain("secret_table");
    expect(res.body).not.toContain("internal.ts");
  });
});

describe("GET /docs", () => {
  it("is an OpenAPI 3 document generated from the route schemas", async () => {
    const res = await h.app.inject({ method: "GET", url: "/docs" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/me", "/healthz", "/readyz"]));
    const me = doc.paths["/me"].get;
    expect(me.security).toEqual([{ bearerAuth: [] }]);
    expect(me.responses["200"].content["application/json"].schema.properties).toHaveProperty("customer_id");
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.paths).not.toHaveProperty("/docs");
  });

  it("serves Swagger UI at /docs/ui", async () => {
    const res = await h.app.inject({ method: "GET", url: "/docs/ui/" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/swagger/i);
  });
});
