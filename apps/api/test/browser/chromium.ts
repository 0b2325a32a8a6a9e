import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's chromium (`apt-get install chromium`); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Quiet, offline, reproducible: no GPU, no QUIC, no first-run UI, and none of the background
 * traffic (updates, sync, component downloads) a fresh profile would otherwise start.
 */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why the browser tests cannot run here, or null when chromium is installed. */
export function chromiumMissingReason(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  return `chromium not found at ${CHROMIUM_PATH} (install Debian's chromium: apt-get install chromium, or set CHROMIUM_PATH)`;
}

/**
 * Whether to skip the browser tests: only outside CI. Under CI=true a missing chromium is a
 * failure (the test launches it and fails with the reason), never a silent skip.
 */
export function skipBrowserTests(what: string): boolean {
  const missing = chromiumMissingReason();
  if (missing === null) return false;
  if (process.env.CI === "true") return false;
  console.warn(`${what} skipped (outside CI only): ${missing}`);
  return true;
}

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh user-data-dir, removed again on close. */
export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<TestBrowser> {
  const missing = chromiumMissingReason();
  if (missing !== null) throw new Error(missing);
  const userDataDir = await mkdtemp(join(tmpdir(), "sparks-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport,
      timeout: 30_000,
    });
    return {
      context,
      async close() {
        await context.close();
        await rm(userDataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await rm(userDataDir, { recursive: true, force: true });
    throw e;
  }
}
