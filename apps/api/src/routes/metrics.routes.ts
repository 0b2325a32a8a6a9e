import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { collectDefaultMetrics, register } from "prom-client";
import type { RoutePluginOptions } from "../api-deps";

let defaultsCollected = false;

/** The registry `/metrics` serves; features register their counters and gauges on it. */
export const metricsRegistry = register;

/** Prometheus metrics (default process metrics for now). */
export const metricsRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app) => {
  // The default registry is process-wide; collecting twice (several apps in one test
  // process) would throw "already registered".
  if (!defaultsCollected) {
    collectDefaultMetrics({ register: metricsRegistry });
    defaultsCollected = true;
  }
  app.get(
    "/metrics",
    { schema: { tags: ["operations"], summary: "Prometheus metrics (text exposition format)" } },
    async (_request, reply) => {
      reply.header("content-type", metricsRegistry.contentType);
      return metricsRegistry.metrics();
    },
  );
};
