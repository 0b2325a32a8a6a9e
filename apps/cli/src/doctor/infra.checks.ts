import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AppConfig } from "@sparks/config";
import { CHECK_TIMEOUT_MS, type CheckResult, errorText, fail, ok } from "./doctor-check";

const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** Postgres reachable, and every migration this build ships applied. */
export async function checkPostgres(config: AppConfig): Promise<CheckResult> {
  const id = "postgres";
  if (!config.databaseUrl) {
    return fail(
      id,
      "DATABASE_URL is not set (only `sparks start` may use the embedded PGlite)",
      "set DATABASE_URL=postgres://… for a deployment with `sparks api` and `sparks worker`",
    );
  }
  const { createDatabase, executeRows, migrationsFolder } = await import("@sparks/db");
  let database: Awaited<ReturnType<typeof createDatabase>> | null = null;
  try {
    database = await createDatabase({ url: config.databaseUrl });
    const db = database.db;
    await withTimeout(executeRows(db, "select 1 as one"), "Postgres did not answer");
    const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta/_journal.json"), "utf8")) as {
      entries: Array<{ tag: string; when: number }>;
    };
    const shipped = journal.entries.length;
    const last = journal.entries.at(-1);
    let applied: Array<{ created_at: unknown }> = [];
    try {
      applied = await executeRows<{ created_at: unknown }>(
        db,
        "select created_at from drizzle.__drizzle_migrations order by created_at",
      );
    } catch {
      applied = [];
    }
    const newest = Number(applied.at(-1)?.created_at ?? 0);
    if (last && newest < last.when) {
      return fail(
        id,
        `reachable, but ${applied.length} of ${shipped} migrations applied (missing up to ${last.tag})`,
        "run `pnpm sparks migrate` with this DATABASE_URL",
      );
    }
    return ok(id, `reachable, migrated (${shipped} migrations, last ${last?.tag ?? "none"})`);
  } catch (e) {
    return fail(
      id,
      `not reachable: ${errorText(e)}`,
      "check DATABASE_URL (host, port, user, database) and that Postgres runs",
    );
  } finally {
    await database?.close().catch(() => undefined);
  }
}

/** Redis reachable and `maxmemory-policy noeviction`: BullMQ loses jobs under any eviction. */
export async function checkRedis(config: AppConfig): Promise<CheckResult> {
  const id = "redis";
  const { createRedisConnection, pingRedis } = await import("@sparks/queues");
  const url = config.redisUrl ?? DEFAULT_REDIS_URL;
  const redis = createRedisConnection(url, "producer", {
    enableOfflineQueue: true,
    lazyConnect: false,
    retryStrategy: () => null,
  });
  try {
    await pingRedis(redis, CHECK_TIMEOUT_MS);
    let policy: string | null = null;
    try {
      const reply = (await redis.config("GET", "maxmemory-policy")) as string[];
      policy = reply[1] ?? null;
    } catch {
      policy = null;
    }
    if (policy === null) {
      return fail(
        id,
        "reachable, but CONFIG GET maxmemory-policy is not allowed",
        "make sure the provider sets maxmemory-policy noeviction (BullMQ loses jobs under eviction)",
      );
    }
    if (policy !== "noeviction") {
      return fail(
        id,
        `reachable, maxmemory-policy is ${policy}`,
        "set maxmemory-policy noeviction (redis.conf, `CONFIG SET maxmemory-policy noeviction`, or the provider's setting): under eviction Redis drops queued jobs",
      );
    }
    return ok(id, "reachable, maxmemory-policy noeviction");
  } catch (e) {
    return fail(id, `not reachable: ${errorText(e)}`, "check REDIS_URL and that Redis runs");
  } finally {
    redis.disconnect();
  }
}

/** At least one alert channel; none means alerts only reach the log. */
export function checkAlerts(config: AppConfig): CheckResult {
  const id = "alerts";
  const a = config.alerts;
  const channels: string[] = [];
  if (a.slackWebhookUrl) channels.push("Slack");
  if (a.smtpUrl && a.emailTo) channels.push(`e-mail to ${a.emailTo}`);
  if (a.smtpUrl && !a.emailTo) {
    return fail(id, "SMTP_URL is set without ALERT_EMAIL_TO", "set ALERT_EMAIL_TO=ops@example.com");
  }
  if (channels.length === 0) {
    return fail(
      id,
      "no alert channel configured: alerts only reach the log",
      "set SLACK_WEBHOOK_URL, or SMTP_URL and ALERT_EMAIL_TO",
    );
  }
  return ok(id, `alerts go to ${channels.join(" and ")}`);
}

export function withTimeout<T>(promise: Promise<T>, what: string, ms = CHECK_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
