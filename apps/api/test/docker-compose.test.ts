import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { envSchema } from "@sparks/config";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";

// No Docker engine (nor the compose plugin) runs on the development machine, so the file is
// checked structurally here; `docker compose config` is the check where Docker is available.
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const service = z.object({
  image: z.string().optional(),
  build: z.object({ context: z.string(), dockerfile: z.string() }).optional(),
  command: z.array(z.string()).optional(),
  environment: z.record(z.string(), z.string()).optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
  healthcheck: z
    .object({ test: z.array(z.string()) })
    .passthrough()
    .optional(),
  depends_on: z.record(z.string(), z.object({ condition: z.string() })).optional(),
});
const compose = z.object({
  services: z.record(z.string(), service),
  volumes: z.record(z.string(), z.unknown()),
});
const file = compose.parse(parse(readFileSync(resolve(root, "docker-compose.yml"), "utf8"), { merge: true }));

describe("docker-compose.yml", () => {
  it("runs Redis with persistence and noeviction, and Postgres 16, both with health checks", () => {
    const redis = file.services.redis;
    expect(redis?.command).toEqual(
      expect.arrayContaining(["--appendonly", "yes", "--maxmemory-policy", "noeviction"]),
    );
    expect(redis?.healthcheck).toBeDefined();
    expect(file.services.postgres?.image).toMatch(/^postgres:16/);
    expect(file.services.postgres?.healthcheck).toBeDefined();
  });

  it("builds api and worker from the Dockerfile, after healthy Redis and Postgres", () => {
    for (const name of ["api", "worker"]) {
      const s = file.services[name];
      expect(s?.build?.dockerfile).toBeDefined();
      expect(existsSync(resolve(root, s?.build?.context ?? ".", s?.build?.dockerfile ?? ""))).toBe(true);
      expect(s?.depends_on?.redis?.condition).toBe("service_healthy");
      expect(s?.depends_on?.postgres?.condition).toBe("service_healthy");
      expect(s?.environment?.DATABASE_URL).toMatch(/^postgres:\/\/.+@postgres:5432\//);
      expect(s?.environment?.REDIS_URL).toBe("redis://redis:6379");
    }
    expect(file.services.api?.command).toEqual(["node", "apps/cli/dist/sparks.mjs", "api"]);
    expect(file.services.worker?.command).toEqual(["node", "apps/cli/dist/sparks.mjs", "worker"]);
  });

  it("sets only variables Sparks knows", () => {
    const known = new Set(Object.keys(envSchema));
    for (const name of ["api", "worker"]) {
      for (const key of Object.keys(file.services[name]?.environment ?? {}))
        expect(known.has(key), key).toBe(true);
    }
  });

  it("runs the image as a non-root user with production dependencies only", () => {
    const dockerfile = readFileSync(resolve(root, "apps/api/Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/pnpm install --frozen-lockfile --prod && pnpm build/);
    expect(dockerfile).toMatch(/^USER sparks$/m);
    expect(dockerfile).toMatch(/^FROM .* AS runtime$/m);
  });
});
