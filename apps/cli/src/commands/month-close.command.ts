import { loadConfig } from "@sparks/config";
import type { Command } from "commander";
import { CliError } from "../cli-error";

interface MonthCloseCliOptions {
  month: string;
}

/**
 * `sparks month-close --month YYYY-MM`: queues the month's close for the worker now instead of
 * at the next hourly check — after an operator fixed what held a customer (docs/month-end.md).
 * The worker closes every customer it can, releases their held invoices and alerts on the rest;
 * `sparks reconcile --month` shows the outcome. Idempotent: a closed month only retries the
 * invoices that are still held.
 */
export function registerMonthClose(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("month-close")
    .description("queue the month close now (closes each customer it can, releases held invoices)")
    .requiredOption("--month <YYYY-MM>", "UTC calendar month")
    .action(async (opts: MonthCloseCliOptions) => {
      if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.month))
        throw new CliError(`--month: must be YYYY-MM: ${opts.month}`);
      const config = loadConfig(env);
      const { createRedisConnection, pingRedis, QueueService } = await import("@sparks/queues");
      const url = config.redisUrl ?? "redis://127.0.0.1:6379";
      const redis = createRedisConnection(url, "producer");
      redis.on("error", () => undefined);
      const queues = new QueueService({ connection: redis });
      try {
        await pingRedis(redis).catch(() => {
          throw new CliError(`Redis at ${url} does not answer (set REDIS_URL, or run \`sparks start\`)`);
        });
        const job = await queues.add("monthClose", { month: opts.month });
        process.stdout.write(
          `Month close of ${opts.month} queued as job ${job.id ?? "?"}; see \`sparks reconcile --month ${opts.month}\` for the invoices.\n`,
        );
      } finally {
        await queues.close().catch(() => undefined);
        redis.disconnect();
      }
    });
}
