import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { SetRateUseCase } from "../use-cases/set-rate.use-case";

const errorBody = z.object({ error: z.string(), message: z.string() });

const rateParams = z.object({ customer_id: z.string().trim().min(1).max(255) });
// A decimal string (money is never a float); a JSON number is accepted and read as written.
const rateBody = z.object({ usd_per_spark: z.union([z.string().max(40), z.number()]) });

const rateAnswer = z.object({
  customer_id: z.string(),
  usd_per_spark: z.string(),
  previous_usd_per_spark: z.string().nullable(),
  subscription_id: z.string(),
  prices: z.array(z.object({ category: z.string(), price: z.string(), lookup_key: z.string() })),
  warnings: z.array(z.string()),
});

/**
 * `POST /customers/:customer_id/rate` (admin): a negotiated enterprise rate becomes the
 * customer's own Stripe prices, swapped into its subscription, and the report's rate.
 */
export const customerRateRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  const setRate = new SetRateUseCase({
    database: deps.database,
    stripe: deps.stripe,
    now: deps.now,
  });

  app.post(
    "/customers/:customer_id/rate",
    {
      config: { auth: "admin" },
      schema: {
        tags: ["customers"],
        summary:
          "Set an enterprise customer's negotiated rate (USD per Spark): its own Stripe prices, swapped into the subscription",
        params: rateParams,
        body: rateBody,
        response: {
          200: rateAnswer,
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
      const result = await setRate.run({
        customer: request.params.customer_id,
        usdPerSpark: String(request.body.usd_per_spark),
      });
      return {
        customer_id: result.customerId,
        usd_per_spark: result.usdPerSpark,
        previous_usd_per_spark: result.previousUsdPerSpark,
        subscription_id: result.subscription.id,
        prices: result.prices.map((p) => ({
          category: p.category,
          price: p.priceId,
          lookup_key: p.lookupKey,
        })),
        warnings: result.warnings,
      };
    },
  );
};
