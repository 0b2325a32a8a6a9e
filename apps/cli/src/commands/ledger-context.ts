import type { AppConfig } from "@sparks/config";
import { createDatabase, type Database } from "@sparks/db";
import type { LedgerDeps } from "@sparks/ledger";
import { createRedisConnection, pingRedis, QueueService } from "@sparks/queues";
import { CliError } from "../cli-error";

/** Where `sparks start` finds Redis when REDIS_URL is unset (see redis-launcher). */
export const LOCAL_REDIS_URL = "redis://127.0.0.1:6379";

export interface LedgerContext {
  config: AppConfig;
  database: Database;
  redis: LedgerDeps["redis"];
  redisUrl: string;
  queues: QueueService;
  ledger: LedgerDeps;
  close(): Promise<void>;
}

/**
 * Postgres + Redis for the commands that talk to the ledger next to a running worker. The
 * embedded PGlite belongs to the one `sparks start` process, so sharing it is refused unless
 * the command runs alone (`allowPglite`: report, inline backfill).
 */
export async function openLedgerContext(
  config: AppConfig,
  command: string,
  opts: { allowPglite?: boolean; redis?: boolean } = {},
): Promise<LedgerContext> {
  let database: Database;
  if (config.databaseUrl) database = await createDatabase({ url: config.databaseUrl });
  else if (opts.allowPglite) {
    const { join } = await import("node:path");
    database = await createDatabase({ dataDir: join(config.dataDir, "pglite") });
  } else {
    throw new CliError(
      `DATABASE_URL is required for \`sparks ${command}\` (the embedded PGlite is held by \`sparks start\`)`,
    );
  }
  const redisUrl = config.redisUrl ?? LOCAL_REDIS_URL;
  const redis = createRedisConnection(redisUrl, "producer");
  // Fail fast and in one line when Redis is down, instead of ioredis' reconnect noise.
  redis.on("error", () => undefined);
  const queues = new QueueService({ connection: redis });
  const close = async () => {
    await queues.close().catch(() => undefined);
    redis.disconnect();
    await database.close();
  };
  if (opts.redis !== false) {
    try {
      // A producer connection queues nothing while offline: wait until it is ready first.
      await new Promise<void>((ready, fail) => {
        if (redis.status === "ready") return ready();
        const timer = setTimeout(() => fail(new Error("timeout")), 3_000);
        redis.once("ready", () => {
          clearTimeout(timer);
          ready();
        });
      });
      await pingRedis(redis);
    } catch {
      await close();
      throw new CliError(`Redis at ${redisUrl} does not answer (set REDIS_URL, or run \`sparks start\`)`);
    }
  }
  return {
    config,
    database,
    redis,
    redisUrl,
    queues,
    ledger: { config, database, queues, redis },
    close,
  };
}

/** `--from/--to` values: ISO 8601 date-times (a bare date means its UTC midnight). */
export function parseIsoOption(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ok = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim());
  const date = new Date(
    /^\d{4}-\d{2}-\d{2}$/.test(value.trim()) ? `${value.trim()}T00:00:00Z` : value.trim(),
  );
  if (!ok || Number.isNaN(date.getTime())) {
    throw new CliError(`--${name}: not an ISO 8601 date-time: ${value}`);
  }
  return date;
}

export function checkWindow(from: Date | undefined, to: Date | undefined, now = new Date()): void {
  if (to && to.getTime() > now.getTime()) throw new CliError("--to: is in the future");
  if (from && to && from.getTime() >= to.getTime()) throw new CliError("--from: must be before --to");
  if (from && !to && from.getTime() >= now.getTime()) throw new CliError("--from: is in the future");
}

/** A customer named by Sparks id or Auth0 user id → its Sparks id (SPEC §5). */
export async function resolveCustomer(database: Database, ref: string | undefined): Promise<string | null> {
  if (!ref) return null;
  const { CustomerRepository } = await import("@sparks/db");
  const customer = await new CustomerRepository(database.db).findByReference(ref.trim());
  if (!customer) throw new CliError(`--customer: no customer ${ref}`);
  return customer.id;
}

export function formatCounts(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}
