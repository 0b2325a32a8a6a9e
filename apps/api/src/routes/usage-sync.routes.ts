import {
  getSyncRun,
  type LedgerDeps,
  requestSync,
  SyncQueueUnavailableError,
  type SyncRunDetails,
  waitForSyncRun,
} from "@sparks/ledger";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { NotFoundError, ServiceUnavailableError } from "../errors/http-errors";

/** `wait: true` holds the request at most this long (a proxy's idle timeout is usually 60–100 s). */
export const SYNC_WAIT_MAX_SECONDS = 60;
/** Trace ids inlined in a `wait: true` answer; the rest are paged with `GET /usage/sync/:id`. */
const WAIT_TRACE_IDS = 10_000;

const isoDateTime = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 date-time (e.g. 2025-01-31T00:00:00Z)",
});

function syncBody(now: () => Date) {
  return z
    .object({
      from: isoDateTime.optional(),
      to: isoDateTime.optional(),
      customer_id: z.string().trim().min(1).max(255).optional(),
      wait: z.boolean().default(false),
      wait_seconds: z.number().int().min(1).max(SYNC_WAIT_MAX_SECONDS).optional(),
    })
    .superRefine((b, ctx) => {
      const from = b.from ? Date.parse(b.from) : null;
      const to = b.to ? Date.parse(b.to) : null;
      // A window ending later than now is a typo, not a request: reject it. A `to` between
      // now − LANGFUSE_LAG and now is accepted and clamped by the worker to the closed end
      // (observations of the last LANGFUSE_LAG seconds may still arrive; the next sync reads them).
      if (to !== null && to > now().getTime()) {
        ctx.addIssue({ code: "custom", path: ["to"], message: "is in the future" });
      }
      if (from !== null && to !== null && from >= to) {
        ctx.addIssue({ code: "custom", path: ["from"], message: "must be before to" });
      }
      if (from !== null && to === null && from >= now().getTime()) {
        ctx.addIssue({ code: "custom", path: ["from"], message: "is in the future" });
      }
    });
}

const syncParams = z.object({ sync_id: z.string().min(1).max(100) });
const syncQuery = z.object({
  limit: z.coerce.number().int().min(0).max(10_000).default(1_000),
  offset: z.coerce.number().int().min(0).default(0),
});

function runAnswer(run: SyncRunDetails) {
  return {
    sync_id: run.syncId,
    status: run.status,
    trigger: run.trigger,
    window: { from: run.window.from?.toISOString() ?? null, to: run.window.to?.toISOString() ?? null },
    customer_id: run.customerId,
    counts: run.counts,
    processed_trace_ids: run.processedTraceIds,
    processed_trace_total: run.processedTraceTotal,
    error: run.error,
    item_errors: run.itemErrors.map((e) => ({
      error_id: e.errorId,
      trace_id: e.traceId,
      usage_category: e.usageCategory,
      status: e.status,
      reason: e.reason,
    })),
    created_at: run.createdAt.toISOString(),
    started_at: run.startedAt?.toISOString() ?? null,
    finished_at: run.finishedAt?.toISOString() ?? null,
  };
}

/**
 * SPEC §4 `POST /usage/sync` and `GET /usage/sync/:sync_id`, admin only. The API only records
 * the run and enqueues it (through @sparks/ledger, shared with the CLI and the worker); a worker
 * runs it.
 */
export const usageSyncRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  const ledger: LedgerDeps = {
    config: deps.config,
    database: deps.database,
    queues: deps.queues,
    redis: deps.redis,
    now: deps.now,
  };

  app.post(
    "/usage/sync",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["usage"],
        summary:
          "Enqueue a sync of [from, to) (default: everything new up to now − LANGFUSE_LAG); wait: true waits up to 60 s",
        body: syncBody(deps.now),
      },
    },
    async (request, reply) => {
      const body = request.body;
      let customerId: string | null = null;
      if (body.customer_id) {
        const customer = await app.customers.findByReference(body.customer_id);
        if (!customer)
          throw new NotFoundError(`customer_id: no customer ${body.customer_id}`, "customer_not_found");
        customerId = customer.id;
      }
      const queued = await requestSync(ledger, {
        ...(body.from ? { from: new Date(body.from).toISOString() } : {}),
        ...(body.to ? { to: new Date(body.to).toISOString() } : {}),
        customerId,
        trigger: "manual",
      }).catch((e: unknown) => {
        // Nothing was left queued (the run row is failed): the client may simply retry.
        if (e instanceof SyncQueueUnavailableError)
          throw new ServiceUnavailableError("queue_unavailable", e.message);
        throw e;
      });
      if (!body.wait) {
        return reply
          .status(202)
          .send({ sync_id: queued.syncId, status: queued.status, deduplicated: queued.deduplicated });
      }
      const seconds = body.wait_seconds ?? SYNC_WAIT_MAX_SECONDS;
      const done = await waitForSyncRun(ledger, queued.syncId, { timeoutMs: seconds * 1000 });
      if (!done || (done.status !== "completed" && done.status !== "failed")) {
        return reply.status(202).send({
          sync_id: queued.syncId,
          status: done?.status ?? queued.status,
          deduplicated: queued.deduplicated,
        });
      }
      const run = await getSyncRun(ledger, queued.syncId, { limit: WAIT_TRACE_IDS });
      if (!run) throw new NotFoundError(`sync run ${queued.syncId} vanished`);
      return reply.status(200).send({ ...runAnswer(run), deduplicated: queued.deduplicated });
    },
  );

  app.get(
    "/usage/sync/:sync_id",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["usage"],
        summary: "A sync run: status, window, counts, processed trace ids (paged), errors",
        params: syncParams,
        querystring: syncQuery,
      },
    },
    async (request) => {
      const run = await getSyncRun(ledger, request.params.sync_id, {
        limit: request.query.limit,
        offset: request.query.offset,
      });
      if (!run) throw new NotFoundError(`no sync run ${request.params.sync_id}`, "sync_not_found");
      return { ...runAnswer(run), limit: request.query.limit, offset: request.query.offset };
    },
  );
};
