import { CustomerRepository } from "@sparks/db";
import { UsageCounters } from "@sparks/queues";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { resolveCustomerScope } from "../auth/customer-scope";
import { BadRequestError, NotFoundError } from "../errors/http-errors";
import { BatchedCounterReader } from "../use-cases/batched-counters.reader";
import { type QuotaAnswer, QuotaUseCase } from "../use-cases/quota.use-case";
import { bearerMatcher } from "../use-cases/service-secret";

const errorBody = z.object({ error: z.string(), message: z.string() });

const quotaAnswer = z.object({
  customer_id: z.string(),
  month: z.string(),
  allowed: z.boolean(),
  tier: z.enum(["free", "standard", "enterprise"]),
  limit: z.number().nullable(),
  used: z.number(),
  remaining: z.number().nullable(),
  reason: z.enum(["quota_exceeded", "payment_failed"]).nullable(),
  features: z.record(z.string(), z.boolean()),
});

/**
 * SPEC §4 `GET /quota`: what Flowise asks before a run. Callers: a customer's token (its own
 * quota), an admin token (any customer), or the service secret `AUTH0_ACTION_SECRET` as a
 * bearer (Flowise, which has no user token; it must name `customer_id`).
 */
export const quotaRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  const quota = new QuotaUseCase({
    customers: new CustomerRepository(deps.database.db),
    counters: new BatchedCounterReader(
      deps.redis,
      new UsageCounters({ redis: deps.redis, prefix: deps.queues.prefix }),
    ),
    billing: deps.config.billing,
    now: deps.now,
  });
  const serviceSecret = deps.config.auth0.actionSecret;
  const isServiceSecret = serviceSecret ? bearerMatcher(serviceSecret) : () => false;

  app.get(
    "/quota",
    {
      schema: {
        tags: ["customers"],
        summary: "Whether a customer may run now: tier, monthly limit, Sparks used and remaining, features",
        security: [{ bearerAuth: [] }],
        querystring: z.object({ customer_id: z.string().trim().min(1).max(255).optional() }),
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
      const named = request.query.customer_id;
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
      return toAnswer(await quota.evaluate(customer));
    },
  );
};

function toAnswer(a: QuotaAnswer) {
  return {
    customer_id: a.customerId,
    month: a.month,
    allowed: a.allowed,
    tier: a.tier,
    limit: a.limit,
    used: a.used,
    remaining: a.remaining,
    reason: a.reason,
    features: { ...a.features },
  };
}
