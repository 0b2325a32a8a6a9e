import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { ServiceUnavailableError, UnauthorizedError } from "../errors/http-errors";
import { Auth0ManagementClient, managementOptionsFromConfig } from "../use-cases/auth0-management.client";
import { bearerMatches } from "../use-cases/service-secret";
import { SignupUseCase } from "../use-cases/signup.use-case";

const errorBody = z.object({ error: z.string(), message: z.string() });

const signupBody = z.object({
  user_id: z
    .string()
    .trim()
    .min(1, "is required")
    .max(255, "must be at most 255 characters")
    .regex(/^[^'"\\\s]+$/, "must be an Auth0 user id such as auth0|abc123 (no quotes or spaces)"),
  email: z.email("must be an e-mail address").max(320).nullish(),
  name: z.string().trim().max(200, "must be at most 200 characters").nullish(),
});

const signupAnswer = z.object({
  customer_id: z.string(),
  auth0_user_id: z.string(),
  stripe_customer_id: z.string(),
  subscription_id: z.string(),
  tier: z.enum(["free", "standard", "enterprise"]),
  auth0_metadata: z.enum(["written", "skipped", "failed"]),
});

/**
 * SPEC §4 `POST /auth0/signup`, called by the Auth0 Post-User-Registration Action with
 * `Authorization: Bearer $AUTH0_ACTION_SECRET` (checked before the body is read).
 */
export const auth0SignupRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  const management = managementOptionsFromConfig(deps.config.auth0);
  const signup = new SignupUseCase({
    database: deps.database,
    stripe: deps.stripe,
    auth0: management === null ? null : new Auth0ManagementClient(management),
    now: deps.now,
    logger: app.log,
  });
  const secret = deps.config.auth0.actionSecret;

  app.post(
    "/auth0/signup",
    {
      onRequest: async (request) => {
        if (!secret) {
          throw new ServiceUnavailableError(
            "signup_not_configured",
            "set AUTH0_ACTION_SECRET to accept Auth0 signups",
          );
        }
        if (!bearerMatches(request.headers.authorization, secret)) {
          throw new UnauthorizedError("send 'Authorization: Bearer <AUTH0_ACTION_SECRET>'");
        }
      },
      schema: {
        tags: ["customers"],
        summary: "Link an Auth0 user to a Stripe customer and a free-tier subscription (idempotent)",
        security: [{ bearerAuth: [] }],
        body: signupBody,
        response: { 200: signupAnswer, 400: errorBody, 401: errorBody, 502: errorBody, 503: errorBody },
      },
    },
    async (request) => {
      const result = await signup.run({
        auth0UserId: request.body.user_id,
        email: request.body.email ?? null,
        name: request.body.name ?? null,
      });
      return {
        customer_id: result.customerId,
        auth0_user_id: result.auth0UserId,
        stripe_customer_id: result.stripeCustomerId,
        subscription_id: result.subscriptionId,
        tier: result.tier,
        auth0_metadata: result.auth0Metadata,
      };
    },
  );
};
