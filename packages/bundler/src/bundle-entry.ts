import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Plugin } from "esbuild";

export interface BundleOptions {
  /** A TypeScript entry (e.g. apps/cli/src/main.ts). */
  entry: string;
  /** The ESM file to write (e.g. apps/cli/dist/sparks.mjs). */
  outfile: string;
}

export interface BundleResult {
  outfile: string;
  bytes: number;
}

/**
 * Keeps third-party packages out of the bundle (they stay in node_modules, loaded by Node as
 * usual: BullMQ reads its Lua scripts and PGlite its wasm next to their own files) but imports
 * them by their resolved path, relative to the bundle: pnpm's strict layout would not let a
 * bundle in apps/cli resolve a package only @sparks/db depends on.
 */
function thirdPartyExternal(outdir: string): Plugin {
  return {
    name: "sparks-third-party-external",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === "resolving" || args.path.startsWith("@sparks/")) return undefined;
        if (args.path.startsWith("node:")) return { path: args.path, external: true };
        const found = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          pluginData: "resolving",
        });
        if (found.errors.length > 0 || found.external) return { path: args.path, external: true };
        let path = relative(outdir, found.path);
        if (!path.startsWith(".")) path = `./${path}`;
        return { path, external: true };
      });
    },
  };
}

/**
 * Our sources find files next to themselves (migrations, the usage page's assets, fixtures) with
 * `import.meta.url`; inside a bundle that would be the bundle's URL. Each file keeps its own.
 */
function ownImportMetaUrl(): Plugin {
  return {
    name: "sparks-own-import-meta-url",
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes("/node_modules/")) return undefined;
        const source = await readFile(args.path, "utf8");
        const url = pathToFileURL(args.path).href;
        return {
          contents: source
            .replaceAll("import.meta.url", JSON.stringify(url))
            .replaceAll("import.meta.dirname", JSON.stringify(dirname(args.path))),
          loader: "ts",
        };
      });
    },
  };
}

/**
 * One ESM file of our own code for plain `node`: no TypeScript loader at run time. Under tsx a
 * worker carries a second V8 isolate for the loader thread, every module's source map and
 * source-mapped stack traces (~95 MB more resident memory at start, and CPU on every
 * `error.stack` the Stripe SDK and postgres touch).
 */
export async function bundleEntry(options: BundleOptions): Promise<BundleResult> {
  const outfile = resolve(options.outfile);
  const result = await build({
    entryPoints: [resolve(options.entry)],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    // Bundled CommonJS (a dependency of ours that is CJS) may `require` Node's builtins.
    banner: {
      js: 'import { createRequire as __sparksRequire } from "node:module"; const require = __sparksRequire(import.meta.url);',
    },
    plugins: [thirdPartyExternal(dirname(outfile)), ownImportMetaUrl()],
    logLevel: "warning",
    metafile: true,
  });
  const output = result.metafile?.outputs[relative(process.cwd(), outfile)];
  return { outfile, bytes: output?.bytes ?? 0 };
}
