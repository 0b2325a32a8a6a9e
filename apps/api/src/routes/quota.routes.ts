import { spendCapAmountProblem, spendCapSparks } from "@sparks/core";
import { QuotaRepository } from "@sparks/db";
import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { resolveCustomerScope } from "../auth/customer-scope";
import { BadRequestError, ConflictError, NotFoundError } from "../errors/http-errors";
import type { QuotaAnswer, QuotaCustomer } from "../use-cases/quota.use-case";
import { quotaServices } from "../use-cases/quota-services";
import { bearerMatcher } from "../use-cases/service-secret";

const errorBody = z.object({ error: z.string(), message: z.string() });

/** Most Sparks one reservation may hold: far above any single run, far below float trouble. */
export const MAX_RESERVE_SPARKS = 1_000_000_000;
export const DEFAULT_RESERVATION_TTL_SECONDS = 300;
export const MAX_RESERVATION_TTL_SECONDS = 3_600;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text that Postgres and Redis take as is: no NUL byte, no lone surrogate. */
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((v) => !v.includes("\u0000"), "must not contain a NUL byte")
    .refine((v) => !LONE_SURROGATE.test(v), "must not contain a lone surrogate");

const reason = z
  .enum(["quota_exceeded", "spend_cap_exceeded", "payment_failed", "counters_unavailable"])
  .nullable();

const capView = z
  .object({ unit: z.enum(["usd", "sparks"]), amount: z.string(), sparks: z.number(), soft: z.boolean() })
  .nullable();

const quotaAnswer = z.object({
  customer_id: z.string(),
  month: z.string(),
  allowed: z.boolean(),
  tier: z.enum(["free", "standard", "enterprise"]),
  limit: z.number().nullable(),
  used: z.number(),
  remaining: z.number().nullable(),
  billed: z.number(),
  provisional: z.number(),
  held: z.number(),
  reason,
  counters: z.enum(["live", "rebuilding", "unavailable"]),
  cap: capView,
  features: z.record(z.string(), z.boolean()),
});

const reserveBody = z.object({
  customer_id: text(255),
  sparks: z.number().int("must be a whole number of Sparks").positive().max(MAX_RESERVE_SPARKS),
  ttl_seconds: z.number().int().min(1).max(MAX_RESERVATION_TTL_SECONDS).optional(),
});

const settleBody = z.object({
  reservation_id: text(64),
  sparks: z.number().int("must be a whole number of Sparks").nonnegative().max(MAX_RESERVE_SPARKS).optional(),
  trace_id: text(255).optional(),
});

const capBody = z.object({
  customer_id: text(255),
  unit: z.enum(["usd", "sparks"]),
  amount: z
    .union([z.string(), z.number()])
    .transform((v) => (typeof v === "number" ? String(v) : v.trim()))
    .superRefine((v, ctx) => {
      const problem = spendCapAmountProblem(v);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  soft: z.boolean().default(false),
});

/**
 * SPEC §4 `/quota`, `/quota/reserve`, `/quota/settle`, plus the admin's spend caps
 * (`PUT`/`DELETE /quota/cap`). Callers of the first three: a customer's token (its own), an
 * admin token (any customer), or the service secret `AUTH0_ACTION_SECRET` as a bearer
 * (Flowise, which has no user token; it must name `customer_id`).
 */
export const quotaRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  const { quota, store, guard } = quotaServices(deps);
  // Counters are trusted only once built from the ledger: do it before serving (a fresh Redis,
  // or one that lost its data while the API was down). A failure here is retried on demand.
  app.addHook("onReady", async () => {
    await whenConnected(deps.redis, 3_000);
    await guard.ensure().catch(() => undefined);
  });
  const caps = new QuotaRepository(deps.database.db);
  const serviceSecret = deps.config.auth0.actionSecret;
  const isServiceSecret = serviceSecret ? bearerMatcher(serviceSecret) : () => false;

  /**
   * Authentication before the body is validated, so a caller without a credential learns
   * nothing about the body's shape (401, not 400): the service secret or an Auth0 token.
   */
  const authenticate = async (request: FastifyRequest) => {
    if (!isServiceSecret(request.headers.authorization)) await app.requireAuth(request);
  };

  /** The customer a request acts for: the named one (service secret, admin) or the caller's own. */
  async function callerCustomer(request: FastifyRequest, named: string | undefined): Promise<QuotaCustomer> {
    let reference: string;
    if (isServiceSecret(request.headers.authorization)) {
      if (!named) throw new BadRequestError("customer_id: is required with the service secret");
      reference = named;
    } else {
      await app.requireAuth(request);
      reference = (await resolveCustomerScope(request, named)).customerId;
    }
    const customer = await quota.customer(reference);
    if (customer === null)
      throw new NotFoundError(`customer_id: no customer ${reference}`, "customer_not_found");
    return customer;
  }

  app.get(
    "/quota",
    {
      onRequest: authenticate,
      schema: {
        tags: ["customers"],
        summary:
          "Whether a customer may run now: limit, Sparks used (billed + provisional + held), remaining",
        security: [{ bearerAuth: [] }],
        querystring: z.object({ customer_id: text(255).optional() }),
        response: {
          200: quotaAnswer,
          400: errorBody,
          401: errorBody,
          403: errorBody,
          404: errorBody,
          503: errorBody,
        },
      },
    },
    async (request) => {
      const customer = await callerCustomer(request, request.query.customer_id);
      return toAnswer(await quota.evaluate(customer));
    },
  );

  app.post(
    "/quota/reserve",
    {
      onRequest: authenticate,
      schema: {
        tags: ["customers"],
        summary: "Hold Sparks before a run; atomic, so concurrent holds never exceed the limit",
        security: [{ bearerAuth: [] }],
        body: reserveBody,
        response: {
          200: z.object({
            reservation_id: z.string().nullable(),
            allowed: z.boolean(),
            remaining: z.number().nullable(),
            expires_at: z.string().nullable(),
            reason,
          }),
          400: errorBody,
          401: errorBody,
          403: errorBody,
          404: errorBody,
        },
      },
    },
    async (request) => {
      const customer = await callerCustomer(request, request.body.customer_id);
      const answer = await quota.reserve(
        customer,
        request.body.sparks,
        request.body.ttl_seconds ?? DEFAULT_RESERVATION_TTL_SECONDS,
      );
      return {
        reservation_id: answer.reservationId,
        allowed: answer.allowed,
        remaining: answer.remaining,
        expires_at: answer.expiresAt?.toISOString() ?? null,
        reason: answer.reason,
      };
    },
  );

  app.post(
    "/quota/settle",
    {
      onRequest: authenticate,
      schema: {
        tags: ["customers"],
        summary: "Release a hold after the run (the real usage arrives through Langfuse)",
        security: [{ bearerAuth: [] }],
        body: settleBody,
        response: {
          200: z.object({
            reservation_id: z.string(),
            settled: z.literal(true),
            customer_id: z.string(),
            held_sparks: z.number(),
            sparks: z.number().nullable(),
          }),
          400: errorBody,
          401: errorBody,
          403: errorBody,
          404: errorBody,
          409: errorBody,
        },
      },
    },
    async (request) => {
      const id = request.body.reservation_id;
      if (!isServiceSecret(request.headers.authorization)) {
        await app.requireAuth(request);
        if (request.identity?.role !== "admin") {
          const owner = await store.reservationCustomer(id);
          // Someone else's reservation looks unknown: ids cannot be probed.
          if (owner !== null && owner !== request.identity?.customerId) {
            throw new NotFoundError(`reservation_id: no open reservation ${id}`, "reservation_not_found");
          }
        }
      }
      const outcome = await quota.settle(id, request.body.sparks);
      if (outcome.status === "already_settled") {
        throw new ConflictError(`reservation_id: ${id} was already settled`, {}, "reservation_settled");
      }
      if (outcome.status === "unknown") {
        throw new NotFoundError(
          `reservation_id: no open reservation ${id} (unknown, or expired at its ttl)`,
          "reservation_not_found",
        );
      }
      return {
        reservation_id: id,
        settled: true as const,
        customer_id: outcome.customerId,
        held_sparks: outcome.sparks,
        sparks: request.body.sparks ?? null,
      };
    },
  );

  const capAnswer = z.object({
    customer_id: z.string(),
    unit: z.enum(["usd", "sparks"]),
    amount: z.string(),
    sparks: z.number(),
    soft: z.boolean(),
    set_by: z.string().nullable(),
  });

  app.put(
    "/quota/cap",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["admin"],
        summary: "Set a paid customer's monthly spend cap (USD or Sparks; soft caps only alert)",
        security: [{ bearerAuth: [] }],
        body: capBody,
        response: { 200: capAnswer, 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody },
      },
    },
    async (request) => {
      await app.requireAdmin(request);
      const row = await request.server.customers.findByReference(request.body.customer_id);
      if (!row)
        throw new NotFoundError(`customer_id: no customer ${request.body.customer_id}`, "customer_not_found");
      if (row.tier === "free") {
        throw new BadRequestError(
          "customer_id: a free customer is hard-capped at its tier quota; spend caps are for paid tiers",
        );
      }
      const cap = await caps.setCap({
        customerId: row.id,
        unit: request.body.unit,
        amount: request.body.amount,
        soft: request.body.soft,
        setBy: request.identity?.sub ?? null,
      });
      quota.forget();
      return {
        customer_id: cap.customerId,
        unit: cap.unit,
        amount: cap.amount,
        sparks: spendCapSparks(cap, deps.config.billing.sparkRateUsd),
        soft: cap.soft,
        set_by: cap.setBy,
      };
    },
  );

  app.delete(
    "/quota/cap",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["admin"],
        summary: "Remove a customer's spend cap",
        security: [{ bearerAuth: [] }],
        querystring: z.object({ customer_id: text(255) }),
        response: {
          200: z.object({ customer_id: z.string(), removed: z.boolean() }),
          400: errorBody,
          401: errorBody,
          403: errorBody,
          404: errorBody,
        },
      },
    },
    async (request) => {
      await app.requireAdmin(request);
      const row = await request.server.customers.findByReference(request.query.customer_id);
      if (!row)
        throw new NotFoundError(
          `customer_id: no customer ${request.query.customer_id}`,
          "customer_not_found",
        );
      const removed = await caps.clearCap(row.id);
      quota.forget();
      return { customer_id: row.id, removed };
    },
  );
};

/** The producer connection refuses commands until connected; wait (bounded) for it. */
async function whenConnected(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    redis.once("ready", done);
    function done() {
      clearTimeout(timer);
      redis.off("ready", done);
      resolve();
    }
  });
}

function toAnswer(a: QuotaAnswer) {
  return {
    customer_id: a.customerId,
    month: a.month,
    allowed: a.allowed,
    tier: a.tier,
    limit: a.limit,
    used: a.used,
    remaining: a.remaining,
    billed: a.billed,
    provisional: a.provisional,
    held: a.held,
    reason: a.reason,
    counters: a.counters,
    cap: a.cap ? { unit: a.cap.unit, amount: a.cap.amount, sparks: a.cap.sparks, soft: a.cap.soft } : null,
    features: { ...a.features },
  };
}
