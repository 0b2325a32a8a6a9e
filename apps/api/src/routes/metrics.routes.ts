import { SyncRunRepository } from "@sparks/db";
import {
  collectDefaultMetricsOnce,
  mergedMetricsText,
  metricsRegistry,
  queueDepth,
  queueFailed,
  readPublishedMetrics,
  refreshQueueMetrics,
  refreshSyncLag,
} from "@sparks/observability";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { RoutePluginOptions } from "../api-deps";
import { operatorGuard } from "./bull-board.routes";

/** The registry `/metrics` serves (prom-client's default; the definitions live in @sparks/observability). */
export { metricsRegistry };

const SCRAPE_TIMEOUT_MS = 2_000;

async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Prometheus metrics for the operator. Queue counts and sync lag are read when scraped (one
 * BullMQ count per queue, one small query), so they are never staler than the scrape. A part
 * that cannot be read drops its series for this scrape rather than repeating an old value.
 * With SPARKS_ADMIN_USER set, scraping needs the operator's basic auth (or an admin token);
 * without it /metrics is open (bind it to a private network then).
 */
export const metricsRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  collectDefaultMetricsOnce();
  if (deps.config.admin) app.addHook("onRequest", operatorGuard(app, deps.config.admin));

  app.get(
    "/metrics",
    { schema: { tags: ["operations"], summary: "Prometheus metrics (text exposition format)" } },
    async (request, reply) => {
      const [queues, lag] = await Promise.allSettled([
        within(refreshQueueMetrics(deps.queues.allQueues()), SCRAPE_TIMEOUT_MS, "Redis"),
        within(new SyncRunRepository(deps.database.db).watermarks(), SCRAPE_TIMEOUT_MS, "the database"),
      ]);
      if (queues.status === "rejected") {
        queueDepth.reset();
        queueFailed.reset();
        request.log.warn({ err: String(queues.reason) }, "metrics: queue counts unavailable");
      }
      if (lag.status === "fulfilled") {
        refreshSyncLag(lag.value, deps.now());
      } else {
        refreshSyncLag([], deps.now());
        request.log.warn({ err: String(lag.reason) }, "metrics: sync lag unavailable");
      }
      // Counters of workers running in their own processes (`sparks worker`), merged in.
      const published = await within(
        readPublishedMetrics(deps.redis, deps.queues.prefix),
        SCRAPE_TIMEOUT_MS,
        "Redis",
      ).catch(() => []);
      reply.header("content-type", metricsRegistry.contentType);
      return mergedMetricsText(published);
    },
  );
};
