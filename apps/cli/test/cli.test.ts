import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLangfuseEmulator, createStripeEmulator, type StripeEmulator } from "@sparks/emulators";
import { createTestDatabase, TEST_REDIS_URL } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, exited, runSparks, spawnSparks, until } from "./cli-harness";

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "sparks-cli-"));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("sparks (as a process)", () => {
  it("prints help listing the commands", async () => {
    const r = await runSparks(["--help"], cleanEnv());
    expect(r.code).toBe(0);
    for (const cmd of ["start", "api", "worker", "migrate", "stripe:setup", "emulate", "relay"]) {
      expect(r.stdout).toContain(cmd);
    }
  });

  it.each([
    ["REDIS_URL", "notaurl"],
    ["PORT", "http"],
    ["LANGFUSE_LAG", "soon"],
  ])("stops with one line naming %s=%s, no stack trace", async (name, value) => {
    const r = await runSparks(["migrate"], cleanEnv({ [name]: value, SPARKS_DATA_DIR: dataDir }));
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^sparks: ${name}: `));
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("rejects an unknown command with a non-zero exit", async () => {
    const r = await runSparks(["frobnicate"], cleanEnv());
    expect(r.code).not.toBe(0);
  });

  it("migrates the embedded database, twice without harm", async () => {
    const env = cleanEnv({ SPARKS_DATA_DIR: dataDir });
    const first = await runSparks(["migrate"], env);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("migrations applied (pglite)");
    const again = await runSparks(["migrate"], env);
    expect(again.code).toBe(0);
  });

  it("refuses `sparks api` without DATABASE_URL, saying why", async () => {
    const r = await runSparks(["api"], cleanEnv({ REDIS_URL: TEST_REDIS_URL, SPARKS_DATA_DIR: dataDir }));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^sparks: DATABASE_URL/);
  });

  describe("stripe:setup against the Stripe emulator", () => {
    let stripe: StripeEmulator;
    beforeAll(async () => {
      stripe = await createStripeEmulator({ rateLimitPerSecond: 0 });
    });
    afterAll(async () => stripe.close());

    it("creates the catalog once, then finds it", async () => {
      const env = cleanEnv({ STRIPE_SECRET_KEY: stripe.secretKey, STRIPE_API_BASE: stripe.url });
      const first = await runSparks(["stripe:setup", "--json"], env);
      expect(first.code).toBe(0);
      const created = JSON.parse(first.stdout) as { created: unknown[]; found: unknown[] };
      expect(created.created).toHaveLength(15);
      const second = await runSparks(["stripe:setup"], env);
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/0 created, 0 updated, 15 found/);
    });

    it("needs STRIPE_SECRET_KEY", async () => {
      const r = await runSparks(["stripe:setup"], cleanEnv());
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe("sparks: STRIPE_SECRET_KEY is required for stripe:setup");
    });
  });

  it("emulate prints the env lines and serves both emulators until stopped", async () => {
    const { child, output } = spawnSparks(
      ["emulate", "--langfuse-port", "0", "--stripe-port", "0", "--traces", "50"],
      cleanEnv(),
    );
    try {
      const env = await until(
        async () => {
          const lines = output()
            .split("\n")
            .filter((l) => /^[A-Z_]+=/.test(l));
          return lines.length >= 6
            ? Object.fromEntries(lines.map((l) => l.split(/=(.*)/s).slice(0, 2)))
            : undefined;
        },
        30_000,
        "env lines",
      );
      expect(Object.keys(env).sort()).toEqual([
        "LANGFUSE_BASEURL",
        "LANGFUSE_PUBLIC_KEY",
        "LANGFUSE_SECRET_KEY",
        "STRIPE_API_BASE",
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
      ]);
      const auth = Buffer.from(`${env.LANGFUSE_PUBLIC_KEY}:${env.LANGFUSE_SECRET_KEY}`).toString("base64");
      const res = await fetch(`${env.LANGFUSE_BASEURL}/api/public/v2/observations?limit=5`, {
        headers: { authorization: `Basic ${auth}` },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { data: unknown[] };
      expect(body.data).toHaveLength(5);
      // Ingestion is open too, and the OTLP URL is printed for apps and Flowise to point at.
      await until(
        async () => (output().includes("OTLP/HTTP traces") ? true : undefined),
        10_000,
        "OTLP line",
      );
      expect(output()).toContain(`${env.LANGFUSE_BASEURL}/api/public/otel/v1/traces`);
      const ingest = await fetch(`${env.LANGFUSE_BASEURL}/api/public/ingestion`, {
        method: "POST",
        headers: { authorization: `Basic ${auth}`, "content-type": "application/json" },
        body: JSON.stringify({
          batch: [
            { id: "e1", type: "trace-create", timestamp: new Date().toISOString(), body: { id: "t-cli" } },
          ],
        }),
      });
      expect(ingest.status).toBe(207);
    } finally {
      child.kill("SIGTERM");
      expect(await exited(child)).toBe(0);
    }
  });

  it("relay forwards a legacy batch to a Langfuse in events_only mode as OTLP, and stops on SIGTERM", async () => {
    const langfuse = await createLangfuseEmulator({ legacyIngestion: "events_only" });
    const { child, output } = spawnSparks(
      ["relay", "--port", "0", "--target", langfuse.url],
      cleanEnv({ RELAY_MAX_BUFFER: "10" }),
    );
    try {
      const url = await until(async () => /^RELAY_URL=(\S+)$/m.exec(output())?.[1], 30_000, "RELAY_URL line");
      const auth = Buffer.from(`${langfuse.publicKey}:${langfuse.secretKey}`).toString("base64");
      const now = new Date().toISOString();
      const res = await fetch(`${url}/api/public/ingestion`, {
        method: "POST",
        headers: { authorization: `Basic ${auth}`, "content-type": "application/json" },
        body: JSON.stringify({
          batch: [
            { id: "e1", type: "trace-create", timestamp: now, body: { id: "t-relay", userId: "cust_cli" } },
            {
              id: "e2",
              type: "span-create",
              timestamp: now,
              body: { id: "s1", traceId: "t-relay", startTime: now },
            },
          ],
        }),
      });
      expect(res.status).toBe(207);
      await until(
        async () => (langfuse.store.observationCount >= 2 ? true : undefined),
        10_000,
        "relayed spans",
      );
      expect(langfuse.otlpRequests.json).toBeGreaterThan(0);
    } finally {
      child.kill("SIGTERM");
      expect(await exited(child)).toBe(0);
      await langfuse.close();
    }
  });

  it("start serves /readyz, then exits cleanly on SIGTERM", async () => {
    const db = await createTestDatabase();
    const { child, output } = spawnSparks(
      ["start"],
      cleanEnv({
        DATABASE_URL: db.url,
        REDIS_URL: TEST_REDIS_URL,
        PORT: "0",
        SPARKS_DATA_DIR: dataDir,
        LOG_LEVEL: "info",
      }),
    );
    try {
      const url = await until(
        async () =>
          output()
            .match(/"url":"(http:\/\/[^"]+)"/)?.[1]
            ?.replace("0.0.0.0", "127.0.0.1"),
        45_000,
        "the API url in the log",
      );
      const ready = await until(
        async () => {
          const r = await fetch(`${url}/readyz`);
          return r.status === 200 ? r.json() : undefined;
        },
        15_000,
        "/readyz",
      );
      expect(ready).toMatchObject({ status: "ready" });
    } finally {
      child.kill("SIGTERM");
      const code = await exited(child);
      await db.drop();
      expect(code, output()).toBe(0);
    }
  });

  it("api and worker run apart on Postgres: the API serves /readyz, the worker starts its queues, both stop on SIGTERM", async () => {
    const db = await createTestDatabase();
    const env = cleanEnv({ DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, PORT: "0", LOG_LEVEL: "info" });
    const migrated = await runSparks(["migrate"], env);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain("migrations applied (postgres)");
    const api = spawnSparks(["api"], env);
    const worker = spawnSparks(["worker"], env);
    try {
      const url = await until(
        async () =>
          api
            .output()
            .match(/"url":"(http:\/\/[^"]+)"/)?.[1]
            ?.replace("0.0.0.0", "127.0.0.1"),
        45_000,
        "the API url in the log",
      );
      const ready = await until(
        async () => {
          const r = await fetch(`${url}/readyz`);
          return r.status === 200 ? r.json() : undefined;
        },
        15_000,
        "/readyz",
      );
      expect(ready).toMatchObject({ status: "ready" });
      await until(
        async () => (worker.output().includes("workers started") ? true : undefined),
        45_000,
        "workers",
      );
      expect(worker.output()).toMatch(/"queues":\[[^\]]*"syncUsage"/);
    } finally {
      api.child.kill("SIGTERM");
      worker.child.kill("SIGTERM");
      const [apiCode, workerCode] = await Promise.all([exited(api.child), exited(worker.child)]);
      await db.drop();
      expect(apiCode, api.output()).toBe(0);
      expect(workerCode, worker.output()).toBe(0);
    }
  });
});
