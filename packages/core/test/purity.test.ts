import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const srcDir = join(import.meta.dirname, "..", "src");

describe("@sparks/core stays pure", () => {
  const files = readdirSync(srcDir).filter((f) => f.endsWith(".ts"));

  it("imports only its own files (no node:*, no I/O libraries)", () => {
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const source = readFileSync(join(srcDir, file), "utf8");
      const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]);
      for (const specifier of specifiers) {
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\//);
      }
    }
  });

  it("holds no float arithmetic helpers on money (no parseFloat / toFixed / Math.round on amounts)", () => {
    for (const file of files) {
      const source = readFileSync(join(srcDir, file), "utf8");
      expect(source, file).not.toMatch(/parseFloat|toFixed|toPrecision/);
    }
  });
});
