import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type PrivateRedis, startPrivateRedis } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumMissingReason, launchChromium, type TestBrowser } from "./browser/chromium";

const missing = chromiumMissingReason();
// In CI a missing browser is a failure, not a skip.
if (missing && process.env.CI !== "true") console.warn(`home page browser test skipped: ${missing}`);

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const OUTPUT = fileURLToPath(new URL("./output/", import.meta.url));

let redis: PrivateRedis;
let dataDir: string;
let sparks: ChildProcess;
let output = "";
let origin: string;
let browser: TestBrowser;

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

interface Report {
  total_sparks: string;
  customer_id: string;
}

async function report(token: string): Promise<Report> {
  const month = new Date().toISOString().slice(0, 7);
  const res = await fetch(`${origin}/usage/report?month=${month}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`report ${res.status}`);
  return (await res.json()) as Report;
}

describe.skipIf(missing !== null && process.env.CI !== "true")(
  "`pnpm start` (demo) → home page → usage page, in Chromium",
  () => {
    beforeAll(async () => {
      redis = await startPrivateRedis();
      dataDir = await mkdtemp(join(tmpdir(), "sparks-home-"));
      // Exactly as the README says (`pnpm start`), with a free port, a private Redis and data dir.
      const { PATH, HOME, TMPDIR } = process.env;
      sparks = spawn("pnpm", ["start"], {
        cwd: repoRoot,
        env: { PATH, HOME, TMPDIR, PORT: "0", REDIS_URL: redis.url, SPARKS_DATA_DIR: dataDir },
        detached: true,
      });
      sparks.stdout?.on("data", (d) => {
        output += d;
      });
      sparks.stderr?.on("data", (d) => {
        output += d;
      });
      origin = await until(
        async () => /Sparks demo is ready: open (http:\/\/[^ ]+)\/ in a browser/.exec(output)?.[1],
        150_000,
        "the home page address in the log",
      );
      browser = await launchChromium();
      await mkdir(OUTPUT, { recursive: true });
    }, 180_000);

    afterAll(async () => {
      await browser?.close();
      if (sparks?.pid && sparks.exitCode === null) {
        // pnpm → tsx → node: the whole group gets the signal, as a terminal's Ctrl-C would.
        process.kill(-sparks.pid, "SIGTERM");
        await new Promise((r) => sparks.once("exit", r));
      }
      await redis?.close();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }, 60_000);

    it("logs JSON when piped, one line naming the home page", () => {
      const lines = output.split("\n").filter((l) => l.trim() !== "" && l.startsWith("{"));
      expect(lines.length).toBeGreaterThan(3);
      for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
      expect(output.match(/Sparks demo is ready/g)).toHaveLength(1);
      expect(output.match(/alert \(no channel configured/g)?.length ?? 0).toBeLessThanOrEqual(1);
    });

    it("opens /, follows a demo customer's link and shows that customer's numbers (= /usage/report)", async () => {
      const page = await browser.context.newPage();
      await page.goto(`${origin}/`);
      expect(await page.locator("h1").textContent()).toBe("Sparks · demo");
      const links = page.locator("#demo-customers a");
      expect(await links.count()).toBe(5);
      await expect(page.locator("#links a").allInnerTexts()).resolves.toContain("Bull Board");
      await page.screenshot({ path: join(OUTPUT, "home-page.png"), fullPage: true });

      const first = links.first();
      const name = (await first.textContent()) ?? "";
      const href = (await first.getAttribute("href")) ?? "";
      const token = href.split("#access_token=")[1] ?? "";
      // The demo's first sync lands within a minute or two: wait until this customer's total is
      // there and holds still, so the page and the JSON read the same ledger.
      let previous = "";
      const settled = await until(
        async () => {
          const r = await report(token);
          const stable = r.total_sparks !== "0" && r.total_sparks === previous;
          previous = r.total_sparks;
          if (!stable) await new Promise((done) => setTimeout(done, 2_000));
          return stable ? r : undefined;
        },
        150_000,
        `${name}'s usage in the report`,
      );

      await first.click();
      await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
      expect(page.url()).not.toContain("access_token");
      expect(await page.locator("#total-sparks").getAttribute("data-value")).toBe(settled.total_sparks);
      expect(await page.locator("#report-title").textContent()).toContain(settled.customer_id);
      await page.screenshot({ path: join(OUTPUT, "home-to-usage-page.png"), fullPage: true });
      await page.close();
    }, 200_000);

    it("the admin link opens the usage page as admin", async () => {
      const page = await browser.context.newPage();
      await page.goto(`${origin}/`);
      await page.locator("#demo-admin a").click();
      await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
      expect(await page.locator("#who-text").textContent()).toContain("admin");
      await page.close();
    }, 60_000);
  },
);
