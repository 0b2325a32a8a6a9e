import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { RoutePluginOptions } from "../api-deps";

/** SPEC §4 `GET /docs`: the OpenAPI document, generated from the routes' zod schemas. */
export const docsRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app) => {
  app.get("/docs", { schema: { hide: true } }, async () => app.swagger());
};
