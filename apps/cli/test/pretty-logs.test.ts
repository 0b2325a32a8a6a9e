import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type PrivateRedis, startPrivateRedis } from "@sparks/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { repoRoot } from "./cli-harness";

let redis: PrivateRedis;
let dataDir: string;

beforeAll(async () => {
  redis = await startPrivateRedis();
  dataDir = await mkdtemp(join(tmpdir(), "sparks-pty-"));
});

afterAll(async () => {
  await redis?.close();
  await rm(dataDir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes are control characters
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * `sparks start` in a pseudo-terminal (util-linux `script`), as a person runs it: the log is
 * pino-pretty's, not JSON. (Piped, it is JSON: see the home page browser test.)
 */
it("`sparks start` in a terminal logs human-readable lines, not JSON", async () => {
  const tsx = resolve(repoRoot, "node_modules/.bin/tsx");
  const main = resolve(repoRoot, "apps/cli/src/main.ts");
  const { PATH, HOME, TMPDIR } = process.env;
  const child = spawn("script", ["-qfec", `${tsx} ${main} start`, "/dev/null"], {
    cwd: repoRoot,
    env: { PATH, HOME, TMPDIR, TERM: "xterm", PORT: "0", REDIS_URL: redis.url, SPARKS_DATA_DIR: dataDir },
    detached: true,
  });
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  try {
    const deadline = Date.now() + 120_000;
    while (!out.includes("Sparks demo is ready")) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`no ready line:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
    const text = out.replace(ANSI, "");
    const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
    expect(lines.some((l) => l.trimStart().startsWith('{"level"'))).toBe(false);
    expect(text).toMatch(/\[\d\d:\d\d:\d\d\] INFO: redis ready/);
    expect(text).toMatch(/INFO: Sparks demo is ready: open http:\/\/127\.0\.0\.1:\d+\/ in a browser/);
  } finally {
    if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
  }
}, 180_000);
