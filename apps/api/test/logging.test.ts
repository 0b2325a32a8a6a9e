import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSecretScrubber } from "../src";
import { type ApiHarness, createApiHarness } from "./api-harness";

const STRIPE_KEY = "sk_test_51SparksVerySecretKeyValue";
const ACTION_SECRET = "action-secret-0123456789abcdef";
const WEBHOOK_SECRET = "whsec_topsecretwebhookvalue";
const ADMIN_PASSWORD = "operator-password-xyz";

let h: ApiHarness;
const lines: string[] = [];
const logText = () => lines.join("");

beforeAll(async () => {
  h = await createApiHarness({
    env: {
      STRIPE_SECRET_KEY: STRIPE_KEY,
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      AUTH0_ACTION_SECRET: ACTION_SECRET,
      SPARKS_ADMIN_USER: "ops",
      SPARKS_ADMIN_PASSWORD: ADMIN_PASSWORD,
    },
    logger: { level: "debug", destination: { write: (line: string) => void lines.push(line) } },
    extend(app) {
      app.post("/test/leaky", async (request) => {
        // A careless route: logs the raw headers, a secret inside a message and an object.
        request.log.info({ headers: request.headers }, "incoming headers");
        request.log.warn(
          { key: STRIPE_KEY, nested: { deeper: [ACTION_SECRET] } },
          `calling Stripe with ${STRIPE_KEY}`,
        );
        throw new Error(
          `upstream rejected ${request.headers.authorization} and ${WEBHOOK_SECRET} / ${ADMIN_PASSWORD}`,
        );
      });
    },
  });
});
afterAll(async () => {
  await h?.close();
});

describe("logs never hold secrets", () => {
  it("redacts bearer tokens, cookies, Stripe signatures and configured secret values", async () => {
    const token = await h.auth0.mintToken({ sub: "auth0|logged", permissions: ["billing:admin"] });
    const me = await h.app.inject({
      method: "GET",
      url: "/me",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.statusCode).toBe(200);
    const res = await h.app.inject({
      method: "POST",
      url: `/test/leaky?access_token=${token}`,
      headers: {
        authorization: `Bearer ${token}`,
        cookie: "session=cookie-value-123456",
        "stripe-signature": "t=1,v1=signature-value-abcdef",
      },
      payload: { hello: "world" },
    });
    expect(res.statusCode).toBe(500);

    const text = logText();
    // The lines were written: the leaky route's messages and the 500 are there.
    expect(text).toContain("incoming headers");
    expect(text).toContain("calling Stripe with [REDACTED]");
    expect(text).toContain("unhandled error");
    expect(text).toContain("[REDACTED]");
    for (const secret of [
      token,
      token.split(".")[2] ?? "unreachable",
      STRIPE_KEY,
      ACTION_SECRET,
      WEBHOOK_SECRET,
      ADMIN_PASSWORD,
      "cookie-value-123456",
      "signature-value-abcdef",
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("createSecretScrubber", () => {
  it("replaces secret values, their JSON-escaped forms, bearer credentials and JWTs", () => {
    const scrub = createSecretScrubber(['pa"ss\\word123', "postgres://u:hunter22@db/x", "hunter22"]);
    const line = JSON.stringify({
      msg: 'pa"ss\\word123 at postgres://u:hunter22@db/x then hunter22',
      auth: "Bearer abc.def-ghi",
      jwt: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
    });
    const out = scrub(line);
    expect(out).not.toMatch(/hunter22|ss\\\\word|abc\.def|eyJ/);
    expect(JSON.parse(out)).toEqual({
      msg: "[REDACTED] at [REDACTED] then [REDACTED]",
      auth: "Bearer [REDACTED]",
      jwt: "[REDACTED]",
    });
  });

  it("leaves short values alone (they would match ordinary text)", () => {
    expect(createSecretScrubber(["abc"])("abcdef")).toBe("abcdef");
  });
});
