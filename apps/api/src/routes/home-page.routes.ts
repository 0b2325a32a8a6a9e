import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { RoutePluginOptions } from "../api-deps";
import { DEMO_ADMIN_SUB } from "../home-page/demo-access";
import { type HomePageLink, renderHomePage } from "../home-page/home-page.render";
import { pageSecurityHeaders } from "./page-security.headers";

/**
 * No script at all, only our own stylesheet. In demo mode the page carries signed tokens in
 * its links, so it is not cached, not framed and sends no referrer.
 */
const SECURITY_HEADERS = pageSecurityHeaders([
  "default-src 'none'",
  "script-src 'none'",
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
]);

const API_VERSION = "0.1.0";

function isLoopback(address: string | undefined): boolean {
  return (
    address === "::1" || address?.startsWith("127.") === true || address?.startsWith("::ffff:127.") === true
  );
}

/** SPEC §4 `GET /`: what runs and where to look; in demo mode, a link per demo customer. */
export const homePageRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  const css = readFileSync(new URL("../home-page/home-page.css", import.meta.url), "utf8");
  const cssVersion = createHash("sha256").update(css).digest("hex").slice(0, 12);
  const demo = deps.home?.demo ?? null;
  const parts = deps.home?.parts ?? ["API"];

  app.get(
    "/",
    {
      schema: { tags: ["pages"], summary: "Home page (HTML): what runs, links; demo customers in demo mode" },
    },
    async (request, reply) => {
      let demoCustomers: HomePageLink[] = [];
      let demoAdmin: HomePageLink | null = null;
      // The demo listens on every interface (HOST 0.0.0.0); its signed links, an admin's among
      // them, go only to a browser on this machine.
      const local = isLoopback(request.socket.remoteAddress);
      if (demo && local) {
        // Signed per view, so a link is never older than the page that shows it.
        demoCustomers = await Promise.all(
          demo.customers.map(async (sub) => ({
            label: sub,
            href: `/usage#access_token=${await demo.signToken({ sub })}`,
          })),
        );
        const first = demo.customers[0];
        const query = first ? `?customer_id=${encodeURIComponent(first)}` : "";
        demoAdmin = {
          label: "open the usage page as admin",
          href: `/usage${query}#access_token=${await demo.signToken({ sub: DEMO_ADMIN_SUB, admin: true })}`,
        };
      }
      const html = renderHomePage({
        version: API_VERSION,
        parts,
        demo: demo !== null,
        demoLinksHidden: demo !== null && !local,
        config: deps.config,
        demoCustomers,
        demoAdmin,
        bullBoardLogin: demo?.bullBoardLogin ?? null,
        cssHref: `/home/home-page.css?v=${cssVersion}`,
      });
      return reply
        .headers(SECURITY_HEADERS)
        .header("cache-control", "no-store")
        .type("text/html; charset=utf-8")
        .send(html);
    },
  );

  app.get("/home/home-page.css", { schema: { hide: true } }, async (_request, reply) => {
    return reply
      .headers(SECURITY_HEADERS)
      .header("cache-control", "public, max-age=86400")
      .type("text/css; charset=utf-8")
      .send(css);
  });
};
