import { parseMonth } from "@sparks/core";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { BadRequestError } from "../errors/http-errors";
import { runWorkerJob } from "../use-cases/worker-job";

const query = z.object({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be YYYY-MM (a UTC calendar month)"),
});

/**
 * `GET /usage/reconciliation?month=`, admin only: per customer and category, Langfuse (re-read)
 * vs the ledger (exact, late, sent) vs Stripe's meter event summaries, with the drift, plus the
 * margin per customer. Re-reading Langfuse and Stripe is a worker's work: the route enqueues a
 * non-repairing `reconcile` job with `report: true` and returns its result (bounded; no worker
 * within ~55 s: 503 `worker_timeout`). A GET never repairs or alerts.
 */
export const usageReconciliationRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  app.get(
    "/usage/reconciliation",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["usage"],
        summary:
          "Langfuse vs ledger vs Stripe for one month, per customer and category, with the drift (a worker job; 503 worker_timeout when no worker answers within ~55 s)",
        querystring: query,
      },
    },
    async (request) => {
      const month = parseMonth(request.query.month);
      if (!month.ok) throw new BadRequestError(`month: ${month.err.message}`);
      return runWorkerJob<"reconcile", unknown>(
        deps.queues,
        "reconcile",
        { month: month.val, repair: false, report: true },
        deps.workerWaitMs,
      );
    },
  );
};
