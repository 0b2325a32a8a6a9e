import { TIER_NAMES } from "@sparks/core";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { resolveCustomerScope } from "../auth/customer-scope";
import { ForbiddenError } from "../errors/http-errors";
import { ChangeTierUseCase } from "../use-cases/change-tier.use-case";

const errorBody = z.object({ error: z.string(), message: z.string() });

const updateBody = z.object({
  subscription_tier: z.enum(TIER_NAMES, `must be one of ${TIER_NAMES.join(", ")}`),
  customer_id: z.string().trim().min(1).max(255).optional(),
  custom_quota: z
    .number()
    .int("must be a whole number of Sparks")
    .min(0, "must not be negative")
    .max(Number.MAX_SAFE_INTEGER)
    .nullable()
    .optional(),
});

const updateAnswer = z.object({
  customer_id: z.string(),
  tier: z.enum(TIER_NAMES),
  previous_tier: z.enum(TIER_NAMES),
  changed: z.boolean(),
  effective_from: z.string().nullable(),
  custom_quota: z.number().nullable(),
  subscription_id: z.string(),
  billing_mode: z.string(),
  items: z.array(z.object({ id: z.string(), price: z.string(), lookup_key: z.string().nullable() })),
});

/** SPEC §4 `POST /subscriptions/update`: a customer changes its own tier; an admin any customer's. */
export const subscriptionsRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  const changeTier = new ChangeTierUseCase({
    database: deps.database,
    stripe: deps.stripe,
    now: deps.now,
  });

  app.post(
    "/subscriptions/update",
    {
      config: { auth: "customer" },
      schema: {
        tags: ["customers"],
        summary: "Change a customer's tier: swaps the Stripe prices (prorated) and records the tier history",
        body: updateBody,
        response: {
          200: updateAnswer,
          400: errorBody,
          401: errorBody,
          403: errorBody,
          404: errorBody,
          409: errorBody,
          502: errorBody,
          503: errorBody,
        },
      },
    },
    async (request) => {
      const scope = await resolveCustomerScope(request, request.body.customer_id);
      if (request.body.custom_quota !== undefined && request.identity?.role !== "admin") {
        throw new ForbiddenError("custom_quota: only an admin may set a custom quota");
      }
      const result = await changeTier.run({
        customerId: scope.customerId,
        tier: request.body.subscription_tier,
        customQuota: request.body.custom_quota,
      });
      return {
        customer_id: result.customerId,
        tier: result.tier,
        previous_tier: result.previousTier,
        changed: result.effectiveFrom !== null,
        effective_from: result.effectiveFrom?.toISOString() ?? null,
        custom_quota: result.customQuota,
        subscription_id: result.subscription.id,
        billing_mode: result.subscription.billingMode,
        items: result.subscription.items.map((item) => ({
          id: item.id,
          price: item.priceId,
          lookup_key: item.lookupKey,
        })),
      };
    },
  );
};
