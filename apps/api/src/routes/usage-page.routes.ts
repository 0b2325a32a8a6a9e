import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { NotFoundError } from "../errors/http-errors";
import { loadUsagePageAssets } from "../usage-page/usage-page.assets";
import { pageSecurityHeaders } from "./page-security.headers";

/**
 * Only our own script, style and API: no inline script, nothing from another origin. The page
 * carries a bearer token, so it must not be framed and must not leak the URL as a referrer.
 */
const SECURITY_HEADERS = pageSecurityHeaders([
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
]);

const assetParams = z.object({ file: z.string().min(1).max(64) });

/**
 * `GET /usage`: the usage page for people. The HTML is public and holds no data; the page's
 * script reads the Auth0 token from the URL fragment (or this tab's sessionStorage) and calls
 * `/me` and `/usage/report` with it, so the same auth rules apply as for the JSON API.
 */
export const usagePageRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app) => {
  const assets = loadUsagePageAssets();

  app.get(
    "/usage",
    { schema: { tags: ["usage"], summary: "Usage page (HTML): Sparks by category and day, quota, items" } },
    async (_request, reply) => {
      return reply
        .headers(SECURITY_HEADERS)
        .header("cache-control", "no-cache")
        .type("text/html; charset=utf-8")
        .send(assets.html);
    },
  );

  app.get("/usage/assets/:file", { schema: { hide: true, params: assetParams } }, async (request, reply) => {
    const asset = assets.files.get(request.params.file);
    if (!asset) throw new NotFoundError(`no asset ${request.params.file}`);
    // URLs carry the content hash (?v=), so a cached copy can be kept for a day.
    return reply
      .headers(SECURITY_HEADERS)
      .header("cache-control", "public, max-age=86400")
      .type(asset.contentType)
      .send(asset.body);
  });
};
