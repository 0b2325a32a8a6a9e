import type { FastifyInstance } from "fastify";

export interface RouteRef {
  method: string;
  /** The route pattern, e.g. `/admin/queues/api/queues/:queueName/add`. */
  pattern: string;
  /** A concrete URL for it (params filled in). */
  url: string;
}

/**
 * Every route the app registered, read from Fastify's own route tree (not a hand-kept list),
 * so a route added later is attacked and fuzzed too. HEAD twins of GET are left out.
 */
export function listRoutes(app: FastifyInstance): RouteRef[] {
  const tree = app.printRoutes({ commonPrefix: false });
  const stack: string[] = [];
  const out: RouteRef[] = [];
  for (const line of tree.split("\n")) {
    const match = /^((?:[│ ] {3})*)[├└]── (.*) \(([A-Z, ]+)\)$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? "").length / 4;
    stack.length = depth;
    stack.push(match[2] ?? "");
    const pattern = stack.join("");
    for (const method of (match[3] ?? "").split(", ")) {
      if (method === "HEAD") continue;
      out.push({ method, pattern, url: fillParams(pattern) });
    }
  }
  return out;
}

function fillParams(pattern: string): string {
  return (
    pattern
      .replace(/:queueName/g, "sync-usage")
      .replace(/:[A-Za-z_]+/g, "x1")
      // Bull Board's wildcard serves its static files; a path under static/ reaches it.
      .replace(/\*/g, "static/anything.js")
  );
}

/** Routes anyone may call without an Auth0 token, each with why. Everything else must refuse. */
export const PUBLIC_ROUTES: ReadonlyArray<[RegExp, string]> = [
  [/^\/docs/, "the OpenAPI document and its UI (SPEC §4)"],
  [/^\/(healthz|readyz)$/, "health probes"],
  [/^\/usage$/, "the usage page shell (data needs a token)"],
  [/^\/usage\/assets\//, "the usage page's static assets"],
  [/^\/$/, "the home page (SPEC §4; demo sign-in links only in demo mode, to loopback)"],
  [/^\/home\/home-page\.css$/, "the home page's stylesheet"],
  [/^\/stripe\/webhook$/, "Stripe: signature instead of a token (webhook tests)"],
  [/^\/auth0\/signup$/, "Auth0 Action: the action secret instead of a token (signup tests)"],
];

export function isPublic(route: RouteRef): boolean {
  return PUBLIC_ROUTES.some(([re]) => re.test(route.pattern));
}
