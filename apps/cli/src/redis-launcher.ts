import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createConnection } from "node:net";
import { resolve } from "node:path";
import { CliError } from "./cli-error";

export interface RedisLaunch {
  url: string;
  /** How Redis was found, for the start-up log. */
  source: "REDIS_URL" | "local" | "spawned" | "docker";
  stop(): Promise<void>;
}

function answersPing(host: string, port: number, timeoutMs = 800): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (d) => finish(d.toString().startsWith("+PONG")));
  });
}

function onPath(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * SPEC's start order: REDIS_URL; else a Redis answering on 127.0.0.1:6379; else a local
 * `redis-server` we start (and stop on exit); else `docker compose up -d redis`; else a clear
 * message on how to get Redis.
 */
export async function ensureRedis(opts: {
  redisUrl: string | null;
  dataDir: string;
  repoRoot: string;
}): Promise<RedisLaunch> {
  const none = async () => undefined;
  if (opts.redisUrl) return { url: opts.redisUrl, source: "REDIS_URL", stop: none };
  const url = "redis://127.0.0.1:6379";
  if (await answersPing("127.0.0.1", 6379)) return { url, source: "local", stop: none };

  if (onPath("redis-server")) {
    const dir = resolve(opts.dataDir, "redis");
    mkdirSync(dir, { recursive: true });
    const child: ChildProcess = spawn(
      "redis-server",
      [
        "--port",
        "6379",
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--maxmemory-policy",
        "noeviction",
        "--save",
        "",
      ],
      { stdio: "ignore" },
    );
    if (await waitFor(() => answersPing("127.0.0.1", 6379), 10_000)) {
      return {
        url,
        source: "spawned",
        stop: () =>
          new Promise((r) => {
            if (child.exitCode !== null) return r();
            child.once("exit", () => r());
            child.kill("SIGTERM");
          }),
      };
    }
    child.kill("SIGKILL");
  }

  if (onPath("docker") && spawnSync("docker", ["info"], { stdio: "ignore" }).status === 0) {
    const up = spawnSync("docker", ["compose", "up", "-d", "redis"], {
      cwd: opts.repoRoot,
      stdio: "inherit",
    });
    if (up.status === 0 && (await waitFor(() => answersPing("127.0.0.1", 6379), 30_000))) {
      return { url, source: "docker", stop: none };
    }
  }

  throw new CliError(
    "Redis is required and none was found: set REDIS_URL, or install Redis (apt-get install redis-server / brew install redis), or run `docker compose up -d redis`",
  );
}
