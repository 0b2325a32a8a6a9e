import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

export interface UsagePageAsset {
  body: string;
  contentType: string;
}

export interface UsagePageAssets {
  html: string;
  /** Keyed by file name as served under `/usage/assets/`. */
  files: Map<string, UsagePageAsset>;
  /** Short content hash; in the asset URLs so a deploy never serves a stale script. */
  version: string;
}

function read(name: string): string {
  return readFileSync(new URL(`./${name}`, import.meta.url), "utf8");
}

/**
 * Reads the page's three files once (they are small, a few KB each) so a request costs no disk
 * I/O. The files sit next to this module and are served as they are: no build step.
 */
export function loadUsagePageAssets(): UsagePageAssets {
  const css = read("usage-page.css");
  const js = read("usage-page.js");
  const version = createHash("sha256").update(css).update(js).digest("hex").slice(0, 12);
  return {
    html: read("usage-page.html").replaceAll("{{version}}", version),
    files: new Map([
      ["usage-page.css", { body: css, contentType: "text/css; charset=utf-8" }],
      ["usage-page.js", { body: js, contentType: "text/javascript; charset=utf-8" }],
    ]),
    version,
  };
}
