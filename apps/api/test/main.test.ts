import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createTestDatabase, TEST_REDIS_URL, type TestDatabase } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const apiDir = fileURLToPath(new URL("..", import.meta.url));

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Runs `src/main.ts` as `sparks api` would, with only the given environment. */
function runMain(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: apiDir,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("timed out waiting");
}

describe("sparks api (main.ts)", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ maxConnections: 1 });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("a malformed variable stops start-up with one line naming it, exit 1", async () => {
    const run = runMain({ REDIS_URL: "notaurl", DATABASE_URL: db.url });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/^sparks: REDIS_URL: must be a redis:\/\/ or rediss:\/\/ URL\n$/);
  });

  it("without DATABASE_URL it says Postgres is required, exit 1", async () => {
    const run = runMain({ REDIS_URL: TEST_REDIS_URL });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/^sparks: DATABASE_URL: is required to run the API apart[^\n]*\n$/);
  });

  it("serves /readyz and exits 0 on SIGTERM", async () => {
    const run = runMain({ DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, PORT: "0", LOG_LEVEL: "info" });
    try {
      const port = await waitFor(() => /listening at http:\/\/[^:]+:(\d+)/.exec(run.stdout())?.[1], 20_000);
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: "ready" });
      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(0);
      expect(run.stderr()).toBe("");
    } finally {
      if (run.child.exitCode === null) run.child.kill("SIGKILL");
    }
  });
});
