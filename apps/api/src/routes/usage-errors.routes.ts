import { type LedgerDeps, ledgerErrorsJson, listLedgerErrors, type RetryOutcome } from "@sparks/ledger";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { runWorkerJob } from "../use-cases/worker-job";

const MAX_RETRY_IDS = 500;

const errorsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
  failed_jobs: z.coerce.number().int().min(0).max(1_000).default(100),
});

const errorId = z.string().trim().min(1).max(100);
const retryBody = z
  .object({
    error_id: errorId.optional(),
    error_ids: z.array(errorId).min(1).max(MAX_RETRY_IDS).optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.error_id === undefined) === (b.error_ids === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["error_id"],
        message: "give error_id or error_ids (one of them)",
      });
    }
  });

/**
 * SPEC §4 `GET /usage/errors` and `POST /usage/errors/retry`, admin only. The list ranks
 * items by urgency (time left before their month's invoice finalizes) then money at risk,
 * and shows BullMQ's failed jobs (the error log) next to them. The retry is a `retryErrors`
 * job; no worker within the bound: 503 `worker_timeout`.
 */
export const usageErrorsRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  const ledger: LedgerDeps = {
    config: deps.config,
    database: deps.database,
    queues: deps.queues,
    redis: deps.redis,
    now: deps.now,
  };

  app.get(
    "/usage/errors",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["usage"],
        summary:
          "Failed, quarantined and discrepancy items (ranked by urgency and money at risk) and failed jobs",
        querystring: errorsQuery,
      },
    },
    async (request) => {
      const { items, failedJobs } = await listLedgerErrors(ledger, {
        limit: request.query.limit,
        failedJobsPerQueue: request.query.failed_jobs,
      });
      return ledgerErrorsJson({ items, failedJobs });
    },
  );

  app.post(
    "/usage/errors/retry",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["usage"],
        summary:
          "Re-evaluate quarantined items and re-send failed ones (a worker job); each id's new status. 503 worker_timeout when no worker answers within ~55 s",
        body: retryBody,
      },
    },
    async (request) => {
      const ids = request.body.error_ids ?? (request.body.error_id ? [request.body.error_id] : []);
      // The worker re-derives and re-queues (a retry may re-read staging and enqueue pushes);
      // the API waits, bounded, for each id's new status.
      const outcomes = await runWorkerJob<"retryErrors", RetryOutcome[]>(
        deps.queues,
        "retryErrors",
        { errorIds: [...new Set(ids)] },
        deps.workerWaitMs,
      );
      return {
        results: outcomes.map((o) => ({ error_id: o.errorId, status: o.status, reason: o.reason })),
      };
    },
  );
};
