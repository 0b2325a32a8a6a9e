import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, runtimeSpecifiers, walkImports } from "./import-graph";

/** The API only enqueues and reads: nothing it loads through the ledger entry may reach these. */
function isAdapter(spec: string): boolean {
  return (
    spec === "@sparks/stripe" ||
    spec === "@sparks/langfuse" ||
    spec === "stripe" ||
    spec.startsWith("stripe/") ||
    spec.startsWith("@langfuse/")
  );
}

const worker = join(repoRoot, "apps/worker/src");

describe("ledger entry import graph", () => {
  it("parses runtime imports and skips type-only ones", () => {
    const specs = runtimeSpecifiers(
      [
        'import type { A } from "type-only";',
        'import { type B, c } from "mixed";',
        "import {\n  d,\n  e,\n} from './multi';",
        'export { f } from "re-export";',
        'export type { G } from "type-export";',
        'import "side-effect";',
        'const h = await import("lazy");',
      ].join("\n"),
    );
    expect(specs.sort()).toEqual(["./multi", "lazy", "mixed", "re-export", "side-effect"]);
  });

  it("detects an adapter reached through relative files (the walker can fail)", () => {
    // Neither processor imports an adapter itself: each is reached through relative files.
    const sync = walkImports(join(worker, "processors/sync-usage.processor.ts"), isAdapter);
    expect([...sync.forbidden.keys()]).toContain("@sparks/langfuse");
    const reconcile = walkImports(join(worker, "processors/reconcile.processor.ts"), isAdapter);
    expect([...reconcile.forbidden.keys()]).toContain("@sparks/stripe");
  });

  it("never reaches @sparks/stripe, @sparks/langfuse, stripe or @langfuse/*", () => {
    const reach = walkImports(join(repoRoot, "packages/ledger/src/index.ts"), isAdapter);
    const chains = [...reach.forbidden.values()].map((c) => c.join(" → "));
    expect(chains).toEqual([]);
    // It did walk the use-cases and the workspace packages they load.
    expect([...reach.files].some((f) => f.endsWith("errors.view.ts"))).toBe(true);
    expect([...reach.files].some((f) => f.includes("packages/db/src"))).toBe(true);
  });
});
