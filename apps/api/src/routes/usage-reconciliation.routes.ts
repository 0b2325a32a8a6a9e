import { parseMonth } from "@sparks/core";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { BadRequestError } from "../errors/http-errors";

const query = z.object({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "must be YYYY-MM (a UTC calendar month)"),
});

/**
 * `GET /usage/reconciliation?month=`, admin only: per customer and category, Langfuse (re-read)
 * vs the ledger (exact, late, sent) vs Stripe's meter event summaries, with the drift, plus the
 * margin per customer. Read-only: a GET never repairs or alerts — repairs run in the worker's
 * `reconcile` job (daily, or `sparks reconcile --repair`).
 */
export const usageReconciliationRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  // Reconciliation is the one read that must re-read Langfuse and Stripe. The worker's use-case
  // (and with it the adapters) is loaded only when an admin asks, never at API start-up.
  let loaded: Promise<typeof import("@sparks/worker")> | undefined;
  const worker = () => {
    loaded ??= import("@sparks/worker");
    return loaded;
  };
  app.get(
    "/usage/reconciliation",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["usage"],
        summary: "Langfuse vs ledger vs Stripe for one month, per customer and category, with the drift",
        querystring: query,
      },
    },
    async (request) => {
      const month = parseMonth(request.query.month);
      if (!month.ok) throw new BadRequestError(`month: ${month.err.message}`);
      const { reconcile, reconcileSourcesFrom } = await worker();
      return reconcile(
        { config: deps.config, database: deps.database, now: deps.now, ...reconcileSourcesFrom(deps.config) },
        { month: month.val, repair: false },
      );
    },
  );
};
