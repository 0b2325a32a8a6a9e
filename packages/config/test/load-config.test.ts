import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, secretValues } from "../src/index";

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("gives the SPEC defaults for an empty environment", () => {
    const c = loadConfig({});
    expect(c.databaseUrl).toBeNull();
    expect(c.redisUrl).toBeNull();
    expect(c.port).toBe(3000);
    expect(c.stripe.meterPrefix).toBe("sparks");
    expect(c.stripe.maxRps).toBe(20);
    expect(c.langfuse.lagSeconds).toBe(900);
    expect(c.langfuse.api).toBe("auto");
    expect(c.billing.sparkRateUsd).toBe("0.001");
    expect(c.billing.discounts).toEqual([{ over: 10000, percent: "5" }]);
    expect(c.syncSchedule).toBe("*/5 * * * *");
  });

  it("names REDIS_URL when it is not a URL", () => {
    const e = errorOf(() => loadConfig({ REDIS_URL: "notaurl" }));
    expect(e.variable).toBe("REDIS_URL");
    expect(e.message).toMatch(/^REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(e.message).not.toContain("\n");
  });

  it.each([
    ["DATABASE_URL", "mysql://x"],
    ["PORT", "70000"],
    ["PORT", "abc"],
    ["LANGFUSE_LAG", "-5"],
    ["LANGFUSE_API", "v3"],
    ["STRIPE_MAX_RPS", "fast"],
    ["STRIPE_SECRET_KEY", "pk_test_123"],
    ["SPARK_RATE", "0"],
    ["SPARK_RATE", "1e-3"],
    ["SYNC_SCHEDULE", "every five minutes please"],
    ["LOG_LEVEL", "loud"],
    ["AUTH0_DOMAIN", "https://tenant.auth0.com"],
    ["SMTP_URL", "http://mail"],
  ])("names %s when it is %s", (name, value) => {
    const e = errorOf(() => loadConfig({ [name]: value }));
    expect(e.variable).toBe(name);
  });

  it("never echoes a malformed secret", () => {
    const e = errorOf(() => loadConfig({ STRIPE_SECRET_KEY: "pk_live_verysecretvalue" }));
    expect(e.variable).toBe("STRIPE_SECRET_KEY");
    expect(e.message).not.toContain("verysecretvalue");
  });

  it("derives Auth0 issuer and JWKS from the domain, with the trailing slash", () => {
    const c = loadConfig({ AUTH0_DOMAIN: "tenant.eu.auth0.com", AUTH0_AUDIENCE: "https://sparks" });
    expect(c.auth0.issuer).toBe("https://tenant.eu.auth0.com/");
    expect(c.auth0.jwksUri).toBe("https://tenant.eu.auth0.com/.well-known/jwks.json");
  });

  it("splits STRIPE_API_BASE for the SDK and budgets live keys higher", () => {
    const c = loadConfig({ STRIPE_API_BASE: "http://127.0.0.1:12111", STRIPE_SECRET_KEY: "sk_live_abc" });
    expect(c.stripe.apiBase).toEqual({ host: "127.0.0.1", port: 12111, protocol: "http" });
    expect(c.stripe.maxRps).toBe(900);
    expect(c.stripe.livemode).toBe(true);
  });

  it("requires Langfuse keys in pairs", () => {
    expect(errorOf(() => loadConfig({ LANGFUSE_PUBLIC_KEY: "pk-lf-1" })).variable).toBe(
      "LANGFUSE_SECRET_KEY",
    );
  });

  it("merges a JSON config file over the defaults and lets SPARK_RATE override it", () => {
    const file = {
      rates: { compute: { sparks: "60" } },
      discounts: [
        { over: 50000, percent: 10 },
        { over: 10000, percent: "5" },
      ],
      tiers: { free: { monthly_quota: 5000 } },
      max_sparks_per_item: 2000,
      spark_rate: "0.002",
    };
    const c = loadConfig({ SPARKS_CONFIG: "/x.json", SPARK_RATE: "0.0015" }, { readFile: () => file });
    expect(c.billing.rates.compute).toEqual({ per: "60000", sparks: "60", unit: "ms" });
    expect(c.billing.rates.ai_tokens.sparks).toBe("100");
    expect(c.billing.discounts.map((d) => d.over)).toEqual([10000, 50000]);
    expect(c.billing.tiers.free).toEqual({ monthlyQuota: 5000, priced: false });
    expect(c.billing.maxSparksPerItem).toBe(2000);
    expect(c.billing.sparkRateUsd).toBe("0.0015");
  });

  it.each([
    [{ rates: { compute: { per: "0" } } }, /rates\.compute\.per/],
    [{ discounts: [{ over: 10, percent: 150 }] }, /cannot exceed 100/],
    [{ unknown_key: 1 }, /unknown_key|Unrecognized/i],
    [{ tiers: { gold: {} } }, /gold|Unrecognized/i],
  ])("rejects a bad config file %j with a message naming SPARKS_CONFIG", (file, why) => {
    const e = errorOf(() => loadConfig({ SPARKS_CONFIG: "/x.json" }, { readFile: () => file }));
    expect(e.variable).toBe("SPARKS_CONFIG");
    expect(e.message).toMatch(why);
  });

  it("reports an unreadable config file", () => {
    const e = errorOf(() => loadConfig({ SPARKS_CONFIG: "/nonexistent/sparks.json" }));
    expect(e.message).toMatch(/^SPARKS_CONFIG: cannot read/);
  });

  it("lists secret values for redaction", () => {
    const s = secretValues({
      STRIPE_SECRET_KEY: "sk_test_abcdef",
      PORT: "3000",
      LANGFUSE_SECRET_KEY: "sk-lf-123456",
    });
    expect(s).toContain("sk_test_abcdef");
    expect(s).toContain("sk-lf-123456");
    expect(s).not.toContain("3000");
  });
});
