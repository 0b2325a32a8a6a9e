import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";

const errorBody = z.object({ error: z.string(), message: z.string() });

/** SPEC §4 `GET /me`: who the token says the caller is. */
export const meRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app) => {
  app.get(
    "/me",
    {
      config: { auth: "any" },
      schema: {
        tags: ["auth"],
        summary: "The caller's identity from its Auth0 access token",
        response: {
          200: z.object({
            sub: z.string(),
            role: z.enum(["admin", "customer"]),
            customer_id: z.string().nullable(),
          }),
          401: errorBody,
          503: errorBody,
        },
      },
    },
    async (request) => {
      const identity = await app.authenticate(request);
      return { sub: identity.sub, role: identity.role, customer_id: identity.customerId };
    },
  );
};
