import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type EnvVariable, envSchema, loadConfig, SECRET_VARIABLES } from "@sparks/config";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

// The parts of Render's Blueprint spec (https://render.com/docs/blueprint-spec) Sparks uses.
const envVar = z.union([
  z.object({ fromGroup: z.string() }).strict(),
  z.object({ key: z.string(), value: z.union([z.string(), z.number()]) }).strict(),
  z.object({ key: z.string(), sync: z.literal(false) }).strict(),
  z.object({ key: z.string(), generateValue: z.literal(true) }).strict(),
  z
    .object({
      key: z.string(),
      fromDatabase: z.object({ name: z.string(), property: z.enum(["connectionString"]) }).strict(),
    })
    .strict(),
  z
    .object({
      key: z.string(),
      fromService: z
        .object({
          type: z.string(),
          name: z.string(),
          property: z.enum(["connectionString", "host", "port", "hostport"]),
        })
        .strict(),
    })
    .strict(),
]);
type EnvVarEntry = z.infer<typeof envVar>;

const ipAllowList = z.array(z.object({ source: z.string(), description: z.string().optional() }).strict());
const buildFilter = z
  .object({ paths: z.array(z.string()).optional(), ignoredPaths: z.array(z.string()).optional() })
  .strict();
const appService = z
  .object({
    type: z.enum(["web", "worker"]),
    name: z.string(),
    runtime: z.literal("node"),
    plan: z.enum(["starter", "standard", "pro", "pro plus", "pro max", "pro ultra"]),
    buildCommand: z.string(),
    preDeployCommand: z.string().optional(),
    startCommand: z.string(),
    healthCheckPath: z.string().optional(),
    autoDeployTrigger: z.enum(["commit", "checksPass", "off"]).optional(),
    buildFilter,
    envVars: z.array(envVar),
  })
  .strict();
const keyValueService = z
  .object({
    type: z.literal("keyvalue"),
    name: z.string(),
    plan: z.string().optional(),
    maxmemoryPolicy: z.enum([
      "allkeys-lru",
      "volatile-lru",
      "allkeys-random",
      "volatile-random",
      "volatile-ttl",
      "noeviction",
    ]),
    // Required by Render for Key Value.
    ipAllowList,
  })
  .strict();
const blueprint = z
  .object({
    previews: z
      .object({
        generation: z.enum(["off", "manual", "automatic"]),
        expireAfterDays: z.number().int().optional(),
      })
      .strict(),
    envVarGroups: z.array(z.object({ name: z.string(), envVars: z.array(envVar) }).strict()),
    services: z.array(z.union([appService, keyValueService])),
    databases: z.array(
      z
        .object({
          name: z.string(),
          databaseName: z.string().optional(),
          plan: z.string().optional(),
          postgresMajorVersion: z.string().optional(),
          ipAllowList: ipAllowList.optional(),
        })
        .strict(),
    ),
  })
  .strict();
type Blueprint = z.infer<typeof blueprint>;
type AppService = z.infer<typeof appService>;

/**
 * What each process needs in production to do its job (beyond defaults): the API verifies
 * Auth0 tokens, links signups (Management API) and takes Stripe webhooks; the worker reads
 * Langfuse and writes Stripe meter events. Both need Postgres and Redis.
 */
const REQUIRED: Record<string, EnvVariable[]> = {
  "sparks-api": [
    "DATABASE_URL",
    "REDIS_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "AUTH0_DOMAIN",
    "AUTH0_AUDIENCE",
    "AUTH0_CLIENT_ID",
    "AUTH0_CLIENT_SECRET",
    "AUTH0_ACTION_SECRET",
  ],
  "sparks-worker": [
    "DATABASE_URL",
    "REDIS_URL",
    "STRIPE_SECRET_KEY",
    "LANGFUSE_PUBLIC_KEY",
    "LANGFUSE_SECRET_KEY",
    "LANGFUSE_BASEURL",
  ],
};

let bp: Blueprint;

function app(name: string): AppService {
  const service = bp.services.find((s) => s.name === name);
  if (!service || service.type === "keyvalue") throw new Error(`no app service ${name} in render.yaml`);
  return service;
}

/** The service's variables with env groups expanded: key → how it is provided. */
function effectiveEnv(service: AppService): Map<string, EnvVarEntry> {
  const out = new Map<string, EnvVarEntry>();
  for (const entry of service.envVars) {
    if ("fromGroup" in entry) {
      const group = bp.envVarGroups.find((g) => g.name === entry.fromGroup);
      if (!group) throw new Error(`${service.name}: env group ${entry.fromGroup} is not defined`);
      for (const v of group.envVars) if ("key" in v) out.set(v.key, v);
    } else {
      out.set(entry.key, entry);
    }
  }
  return out;
}

/** Minimal glob check for buildFilter entries: `dir/**`, `**` segments and plain files. */
function globMatches(glob: string, path: string): boolean {
  const re = glob
    .split("/")
    .map((part) => (part === "**" ? ".*" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")))
    .join("/")
    .replace(/\.\*\//g, "(?:.*/)?");
  return new RegExp(`^${re}$`).test(path);
}

/** Directories of the workspace packages `pkgDir` depends on, transitively (itself included). */
function workspaceClosure(pkgDir: string): Set<string> {
  const byName = new Map<string, string>();
  for (const parent of ["apps", "packages"]) {
    for (const dir of readdirSync(resolve(repoRoot, parent))) {
      const manifest = resolve(repoRoot, parent, dir, "package.json");
      if (!existsSync(manifest)) continue;
      const { name } = JSON.parse(readFileSync(manifest, "utf8")) as { name: string };
      byName.set(name, `${parent}/${dir}`);
    }
  }
  const seen = new Set<string>();
  const visit = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const manifest = JSON.parse(readFileSync(resolve(repoRoot, dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      const depDir = byName.get(dep);
      if (depDir) visit(depDir);
    }
  };
  visit(pkgDir);
  return seen;
}

beforeAll(() => {
  const text = readFileSync(resolve(repoRoot, "render.yaml"), "utf8");
  const parsed = blueprint.safeParse(parse(text, { uniqueKeys: true }));
  if (!parsed.success) throw new Error(`render.yaml: ${z.prettifyError(parsed.error)}`);
  bp = parsed.data;
});

describe("render.yaml (Render Blueprint)", () => {
  it("runs the API as a web service with /readyz and migrations before it starts", () => {
    const api = app("sparks-api");
    expect(api.type).toBe("web");
    expect(api.healthCheckPath).toBe("/readyz");
    expect(api.preDeployCommand).toBe("node apps/cli/dist/sparks.mjs migrate");
    expect(api.startCommand).toBe("node apps/cli/dist/sparks.mjs api");
    expect(api.buildCommand).toMatch(/&& pnpm build$/);
    const worker = app("sparks-worker");
    expect(worker.type).toBe("worker");
    expect(worker.startCommand).toBe("node apps/cli/dist/sparks.mjs worker");
    expect(worker.buildCommand).toMatch(/&& pnpm build$/);
    expect(worker.healthCheckPath).toBeUndefined();
  });

  it("has a private Key Value with noeviction (BullMQ) and a private Postgres", () => {
    const kv = bp.services.filter((s) => s.type === "keyvalue");
    expect(kv).toHaveLength(1);
    expect(kv[0]).toMatchObject({ maxmemoryPolicy: "noeviction", ipAllowList: [] });
    expect(bp.databases).toHaveLength(1);
    expect(bp.databases[0]?.ipAllowList).toEqual([]);
  });

  it("wires DATABASE_URL and REDIS_URL to the blueprint's own database and Key Value", () => {
    const kvName = bp.services.find((s) => s.type === "keyvalue")?.name;
    for (const name of ["sparks-api", "sparks-worker"]) {
      const env = effectiveEnv(app(name));
      expect(env.get("DATABASE_URL")).toEqual({
        key: "DATABASE_URL",
        fromDatabase: { name: bp.databases[0]?.name, property: "connectionString" },
      });
      expect(env.get("REDIS_URL")).toEqual({
        key: "REDIS_URL",
        fromService: { type: "keyvalue", name: kvName, property: "connectionString" },
      });
    }
  });

  it("provides every variable each process requires in production", () => {
    for (const [name, required] of Object.entries(REQUIRED)) {
      const env = effectiveEnv(app(name));
      const missing = required.filter((key) => !env.has(key));
      expect(missing, `${name} lacks ${missing.join(", ")}`).toEqual([]);
    }
  });

  it("keeps secrets out of the file (sync: false) and shared settings in an env group", () => {
    expect(bp.envVarGroups.map((g) => g.name)).toContain("sparks-shared");
    for (const group of bp.envVarGroups) {
      for (const v of group.envVars) {
        // Render ignores sync:false in env groups, and groups cannot reference services.
        expect(v, `${group.name}: ${JSON.stringify(v)}`).toHaveProperty("value");
      }
    }
    for (const name of Object.keys(REQUIRED)) {
      expect(app(name).envVars).toContainEqual({ fromGroup: "sparks-shared" });
      for (const [key, entry] of effectiveEnv(app(name))) {
        if (!SECRET_VARIABLES.includes(key as EnvVariable)) continue;
        expect("value" in entry || "generateValue" in entry, `${name}: ${key} is a secret`).toBe(false);
      }
    }
    expect(effectiveEnv(app("sparks-api")).get("STRIPE_SECRET_KEY")).toEqual({
      key: "STRIPE_SECRET_KEY",
      sync: false,
    });
  });

  it("uses only variables @sparks/config knows, with values it accepts", () => {
    const keys = new Set<string>();
    const literal: Record<string, string> = {};
    for (const group of bp.envVarGroups) {
      for (const v of group.envVars) if ("key" in v) keys.add(v.key);
    }
    for (const service of bp.services) {
      if (service.type === "keyvalue") continue;
      for (const [key, entry] of effectiveEnv(service)) {
        keys.add(key);
        if ("value" in entry) literal[key] = String(entry.value);
      }
    }
    const unknown = [...keys].filter((k) => !(k in envSchema));
    expect(unknown).toEqual([]);
    // The literal values start Sparks as they are (a bad cron or rate would stop the process).
    const config = loadConfig({
      ...literal,
      DATABASE_URL: "postgresql://sparks:pw@dpg-x-a:5432/sparks",
      REDIS_URL: "redis://red-x:6379",
    });
    expect(config.billing.sparkRateUsd).toBe("0.001");
    expect(config.langfuse.lagSeconds).toBe(900);
  });

  it("builds a service only when its code (or a workspace package it uses) changes", () => {
    const cli = workspaceClosure("apps/cli");
    for (const [name, own, other] of [
      ["sparks-api", "apps/api", "apps/worker"],
      ["sparks-worker", "apps/worker", "apps/api"],
    ] as const) {
      const filter = app(name).buildFilter;
      const paths = filter.paths ?? [];
      const covered = (file: string) => paths.some((p) => globMatches(p, file));
      for (const dir of cli) {
        if (dir === other) continue;
        expect(covered(`${dir}/src/index.ts`), `${name}: ${dir} not in buildFilter.paths`).toBe(true);
      }
      expect(covered(`${own}/src/index.ts`)).toBe(true);
      expect(covered(`${other}/src/index.ts`)).toBe(false);
      expect(covered("pnpm-lock.yaml")).toBe(true);
      expect(covered("package.json")).toBe(true);
      // Tests and docs never trigger a deploy.
      expect((filter.ignoredPaths ?? []).some((p) => globMatches(p, `${own}/test/x.test.ts`))).toBe(true);
      for (const p of paths) {
        const root = p.split("/**")[0] ?? p;
        expect(existsSync(resolve(repoRoot, root)), `${name}: ${p} names nothing in the repo`).toBe(true);
      }
    }
  });

  it("enables preview environments (the staging step before main)", () => {
    expect(bp.previews.generation).toBe("automatic");
  });

  it("starts only commands the sparks CLI has", async () => {
    const { stdout } = await promisify(execFile)(
      resolve(repoRoot, "node_modules/.bin/tsx"),
      [resolve(repoRoot, "apps/cli/src/main.ts"), "--help"],
      { cwd: repoRoot, env: { PATH: process.env.PATH, HOME: process.env.HOME }, timeout: 30_000 },
    );
    const commands = [
      ...new Set(
        bp.services.flatMap((s) =>
          s.type === "keyvalue"
            ? []
            : [s.startCommand, s.preDeployCommand ?? ""].flatMap(
                (c) => /^node apps\/cli\/dist\/sparks\.mjs (\S+)/.exec(c)?.[1] ?? [],
              ),
        ),
      ),
    ];
    expect(commands.sort()).toEqual(["api", "migrate", "worker"]);
    for (const command of commands) expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, "m"));
  });
});
