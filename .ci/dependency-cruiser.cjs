// The project's import rules, checked by dependency-cruiser in `pnpm lint` (docs/architecture.md).
// Each rule says why; a new exception needs a reason next to it.
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const TEST = "/(test|tests|scripts)/|\\.test\\.ts$";

/** Workspace packages under packages/, apps/ and tools/, with the @sparks deps each declares. */
function workspaces() {
  const out = [];
  for (const group of ["packages", "apps", "tools"]) {
    const dir = path.join(root, group);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) {
      const manifest = path.join(dir, name, "package.json");
      if (!fs.existsSync(manifest)) continue;
      const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
      const deps = (field) => Object.keys(pkg[field] ?? {}).filter((d) => d.startsWith("@sparks/"));
      out.push({ dir: `${group}/${name}`, name: pkg.name, deps: deps("dependencies"), devDeps: deps("devDependencies") });
    }
  }
  return out;
}

const all = workspaces();
const dirOf = new Map(all.map((w) => [w.name, w.dir]));
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const dirsOf = (names) => names.flatMap((n) => (dirOf.has(n) ? [escape(dirOf.get(n))] : []));

// A workspace's source may import only the workspaces its package.json declares (dependencies;
// its tests also devDependencies): the manifest is the package graph, and this keeps it honest.
const declaredRules = all.flatMap((w) => {
  const own = escape(w.dir);
  const allowed = (names) => [own, ...dirsOf(names)].join("|");
  return [
    {
      name: `declared-deps:${w.name}`,
      severity: "error",
      comment: `${w.name} imports a workspace its package.json does not list in dependencies`,
      from: { path: `^${own}/`, pathNot: TEST },
      to: { path: "^(packages|apps|tools)/", pathNot: `^(${allowed(w.deps)})/` },
    },
    {
      name: `declared-deps-tests:${w.name}`,
      severity: "error",
      comment: `a test of ${w.name} imports a workspace its package.json does not list`,
      from: { path: `^${own}/(test|tests|scripts)/|^${own}/src/.+\\.test\\.ts$` },
      to: { path: "^(packages|apps|tools)/", pathNot: `^(${allowed([...w.deps, ...w.devDeps])})/` },
    },
  ];
});

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle: the modules cannot be understood, tested or moved apart.",
      from: {},
      to: { circular: true },
    },
    {
      name: "core-is-pure",
      severity: "error",
      comment:
        "packages/core is the pure domain: it imports nothing but itself (no workspace package, no npm library, no node built-in, so no I/O).",
      from: { path: "^packages/core/src/" },
      to: { pathNot: "^packages/core/src/" },
    },
    {
      name: "packages-never-import-apps",
      severity: "error",
      comment: "Packages are libraries; apps and tools compose them, never the other way round.",
      from: { path: "^packages/" },
      to: { path: "^(apps|tools)/" },
    },
    {
      name: "nothing-imports-an-app",
      severity: "error",
      comment:
        "An app is a composition root, not a library. The one launcher is the CLI (`sparks start` runs the API and the workers in one process), which may use an app's entry point (src/index.ts) only; tests and tools/ harnesses compose apps the same way.",
      from: { path: "^((apps|packages)/[^/]+)/", pathNot: `^apps/cli/src/|${TEST}` },
      to: { path: "^apps/", pathNot: "^$1/" },
    },
    {
      name: "apps-only-through-their-entry",
      severity: "error",
      comment: "Who may use an app (the CLI launcher, tests, tools/) goes through its index.ts, not its insides.",
      from: { path: "^((apps|tools)/[^/]+)/" },
      to: { path: "^apps/[^/]+/src/.+", pathNot: ["^$1/", "^apps/[^/]+/src/index\\.ts$"] },
    },
    {
      name: "api-does-no-worker-work",
      severity: "error",
      comment:
        "The API enqueues; it never reads Langfuse or runs emulator/worker code in a request (reconciliation and error retry are worker jobs).",
      from: { path: "^apps/api/src/" },
      to: { path: "^(apps/worker|packages/langfuse|packages/emulators)/|node_modules/@langfuse/" },
    },
    {
      name: "drizzle-only-in-db",
      severity: "error",
      comment: "SQL lives in packages/db (repositories and queries); others call their methods.",
      from: {
        path: "^(apps|packages)/",
        pathNot: [
          "^packages/db/",
          TEST,
        ],
      },
      to: { path: "node_modules/drizzle-orm/" },
    },
    {
      name: "stripe-sdk-only-in-packages-stripe",
      severity: "error",
      comment:
        "The stripe SDK is wrapped once (packages/stripe: typed errors, retries, audit). Tests may use the SDK itself as a client.",
      from: {
        path: "^(apps|packages)/",
        pathNot: [
          "^packages/stripe/",
          TEST,
        ],
      },
      to: { path: "node_modules/stripe/" },
    },
    {
      name: "langfuse-sdk-only-in-packages-langfuse",
      severity: "error",
      comment: "The Langfuse client is wrapped once (packages/langfuse). Tests may use the real SDK to write data.",
      from: { path: "^(apps|packages)/", pathNot: ["^packages/langfuse/", TEST] },
      to: { path: "node_modules/@langfuse/" },
    },
    {
      name: "resolvable",
      severity: "error",
      comment:
        "An import that does not resolve from its workspace: with pnpm's strict node_modules that is an npm dependency its package.json does not declare.",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "declared-npm-deps",
      severity: "error",
      comment: "An npm import must be declared in the importing workspace's package.json.",
      // vitest (and its config helper) is the root's dev dependency, shared by every workspace.
      from: { pathNot: [TEST, "vitest\\.config\\.ts$"] },
      to: { dependencyTypes: ["npm-no-pkg", "npm-unknown"] },
    },
    ...declaredRules,
  ],
  options: {
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "/dist/|/\\.data/" },
    moduleSystems: ["es6", "cjs"],
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
