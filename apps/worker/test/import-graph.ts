import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "../../..");

/** Workspace package name → its folder, from every package.json under apps/ and packages/. */
function workspacePackages(): Map<string, string> {
  const out = new Map<string, string>();
  for (const top of ["apps", "packages"]) {
    for (const name of readdirSync(join(repoRoot, top))) {
      const dir = join(repoRoot, top, name);
      const manifest = join(dir, "package.json");
      if (!statSync(dir).isDirectory() || !existsSync(manifest)) continue;
      const parsed: unknown = JSON.parse(readFileSync(manifest, "utf8"));
      if (
        typeof parsed === "object" &&
        parsed !== null &&
        "name" in parsed &&
        typeof parsed.name === "string"
      ) {
        out.set(parsed.name, dir);
      }
    }
  }
  return out;
}

function packageEntry(dir: string, subpath: string): string | null {
  const parsed: unknown = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (typeof parsed !== "object" || parsed === null || !("exports" in parsed)) return null;
  const exportsField = parsed.exports;
  if (typeof exportsField !== "object" || exportsField === null) return null;
  const target: unknown = (exportsField as Record<string, unknown>)[subpath];
  return typeof target === "string" ? join(dir, target) : null;
}

function resolveRelative(from: string, spec: string): string {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new Error(`cannot resolve ${spec} from ${from}`);
}

/**
 * Runtime specifiers of a module: `import … from`, `export … from`, bare `import "x"` and
 * `import("x")`. `import type` / `export type` are erased; an `import { type A }` is not
 * (verbatimModuleSyntax keeps it as a side-effect import), so it counts.
 */
export function runtimeSpecifiers(source: string): string[] {
  const out: string[] = [];
  const statement = /\b(import|export)\s+(type\s+)?([\w*{}\s,$]*?)\s*from\s*["']([^"']+)["']/g;
  for (const m of source.matchAll(statement)) if (!m[2] && m[4]) out.push(m[4]);
  for (const m of source.matchAll(/^\s*import\s*["']([^"']+)["']/gm)) if (m[1]) out.push(m[1]);
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) if (m[1]) out.push(m[1]);
  return out;
}

export interface Reach {
  /** Forbidden specifier → the import chain that reached it. */
  forbidden: Map<string, string[]>;
  files: Set<string>;
}

/**
 * Walks runtime imports from `entry`, following relative files and workspace packages
 * (through their `exports`), and records every forbidden bare specifier reached.
 */
export function walkImports(entry: string, isForbidden: (spec: string) => boolean): Reach {
  const packages = workspacePackages();
  const forbidden = new Map<string, string[]>();
  const files = new Set<string>();
  const queue: { file: string; chain: string[] }[] = [{ file: entry, chain: [entry] }];
  while (queue.length > 0) {
    const next = queue.shift();
    if (!next || files.has(next.file)) continue;
    files.add(next.file);
    for (const spec of runtimeSpecifiers(readFileSync(next.file, "utf8"))) {
      const chain = [...next.chain, spec];
      if (isForbidden(spec)) {
        if (!forbidden.has(spec)) forbidden.set(spec, chain);
        continue;
      }
      if (spec.startsWith(".")) {
        const file = resolveRelative(next.file, spec);
        queue.push({ file, chain: [...next.chain, file] });
        continue;
      }
      const [scope, name, ...rest] = spec.split("/");
      const pkgName = spec.startsWith("@") ? `${scope}/${name}` : (scope ?? spec);
      const dir = packages.get(pkgName);
      if (!dir) continue; // an outside dependency that is not forbidden
      const sub = spec.startsWith("@") ? rest : [name, ...rest].filter((p): p is string => Boolean(p));
      const file = packageEntry(dir, sub.length > 0 ? `./${sub.join("/")}` : ".");
      if (!file) throw new Error(`cannot resolve workspace import ${spec}`);
      queue.push({ file, chain: [...next.chain, file] });
    }
  }
  return { forbidden, files };
}
