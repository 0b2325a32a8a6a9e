import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/**
 * Restarts the machine's local Redis and Postgres with the commands they were started with
 * (see the environment notes). Only the full chaos run uses this: every other test on the
 * machine shares these services.
 */
export class ServiceRestarter {
  /** Redis without persistence: every key (every queue) is gone afterwards. */
  async restartRedis(): Promise<void> {
    await run("redis-cli", ["shutdown", "nosave"]).catch(() => undefined);
    await run("redis-server", [
      "--daemonize",
      "yes",
      "--bind",
      "127.0.0.1",
      "-::1",
      "--port",
      "6379",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      "/var/lib/redis",
      "--logfile",
      "/var/log/redis/ci.log",
    ]);
    await this.waitFor(async () => (await run("redis-cli", ["ping"])).stdout.includes("PONG"));
  }

  async restartPostgres(): Promise<void> {
    const { stdout } = await run("ls", ["/etc/postgresql"]);
    const version = stdout.trim().split(/\s+/)[0] ?? "15";
    await run("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "restart"]);
    await this.waitFor(async () => {
      await run("pg_isready", ["-h", "127.0.0.1", "-p", "5432"]);
      return true;
    });
  }

  private async waitFor(check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error("service did not come back within 30 s");
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
