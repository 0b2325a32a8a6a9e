import { type Auth0Emulator, createAuth0Emulator } from "@sparks/emulators";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "./api-harness";

const DEMO_CUSTOMERS = ["auth0|demo-ada", "auth0|demo-grace"];

/** `href`s of the links inside the element with this id. */
function hrefsIn(html: string, id: string): string[] {
  const start = html.indexOf(`id="${id}"`);
  expect(start, `#${id} on the page`).toBeGreaterThan(-1);
  const block = html.slice(start, html.indexOf(id === "demo-admin" ? "</span>" : "</ul>", start));
  return [...block.matchAll(/href="([^"]+)"/g)].map((m) => (m[1] ?? "").replaceAll("&amp;", "&"));
}

describe("GET / outside demo mode", () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await createApiHarness({ home: { parts: ["API", "workers", "schedulers"] } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it("is a script-free HTML page linking the usage page, Bull Board, docs, metrics and health", async () => {
    const res = await h.app.inject({ method: "GET", url: "/" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    expect(hrefsIn(res.body, "links")).toEqual([
      "/usage",
      "/admin/queues",
      "/docs/ui",
      "/docs",
      "/metrics",
      "/healthz",
      "/readyz",
    ]);
    expect(res.body).toContain("API, workers, schedulers");
    expect(res.body).not.toContain("Demo customers");
    expect(res.body).not.toContain("access_token");
    // The stylesheet it names is served, same origin.
    const css = /href="(\/home\/home-page\.css\?v=[0-9a-f]+)"/.exec(res.body)?.[1];
    expect(css).toBeDefined();
    const sheet = await h.app.inject({ method: "GET", url: css ?? "" });
    expect(sheet.statusCode).toBe(200);
    expect(sheet.headers["content-type"]).toBe("text/css; charset=utf-8");
  });
});

describe("GET / in demo mode", () => {
  let h: ApiHarness;
  let auth0: Auth0Emulator;
  beforeAll(async () => {
    auth0 = await createAuth0Emulator();
    h = await createApiHarness({
      withoutAuth0: true,
      env: auth0.env,
      home: {
        demo: {
          customers: DEMO_CUSTOMERS,
          signToken: (o) => auth0.signToken(o),
          bullBoardLogin: { user: "admin", password: "sparks-demo-local" },
        },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    await auth0?.close();
  });

  it("links each demo customer's usage page with a token that acts as that customer", async () => {
    const res = await h.app.inject({ method: "GET", url: "/" });
    expect(res.statusCode).toBe(200);
    const links = hrefsIn(res.body, "demo-customers");
    expect(links).toHaveLength(DEMO_CUSTOMERS.length);
    for (const [i, href] of links.entries()) {
      const token = /^\/usage#access_token=([\w.-]+)$/.exec(href)?.[1];
      expect(token, href).toBeDefined();
      const me = await h.app.inject({
        method: "GET",
        url: "/me",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ sub: DEMO_CUSTOMERS[i], role: "customer" });
      // Short-lived: an hour at most.
      const claims = JSON.parse(Buffer.from(token?.split(".")[1] ?? "", "base64url").toString("utf8"));
      expect(claims.exp - claims.iat).toBeLessThanOrEqual(3600);
    }
    expect(res.body).toContain("Bull Board login: <code>admin</code> / <code>sparks-demo-local</code>");
  });

  it("links the admin view with a billing:admin token", async () => {
    const res = await h.app.inject({ method: "GET", url: "/" });
    const [href] = hrefsIn(res.body, "demo-admin");
    const match = /^\/usage\?customer_id=auth0%7Cdemo-ada#access_token=([\w.-]+)$/.exec(href ?? "");
    expect(match, href).not.toBeNull();
    const me = await h.app.inject({
      method: "GET",
      url: "/me",
      headers: { authorization: `Bearer ${match?.[1]}` },
    });
    expect(me.json()).toMatchObject({ role: "admin" });
  });

  it("withholds the signed links from a browser on another machine", async () => {
    const res = await h.app.inject({ method: "GET", url: "/", remoteAddress: "10.1.2.3" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('id="demo-hidden"');
    expect(res.body).not.toContain("access_token");
  });

  it("signs fresh tokens on every view", async () => {
    const a = hrefsIn((await h.app.inject({ method: "GET", url: "/" })).body, "demo-customers");
    await new Promise((r) => setTimeout(r, 1100));
    const b = hrefsIn((await h.app.inject({ method: "GET", url: "/" })).body, "demo-customers");
    expect(a[0]).not.toBe(b[0]);
  });
});
