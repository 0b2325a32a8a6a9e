import { CustomerRepository, executeRows } from "@sparks/db";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "./api-harness";
import { listRoutes, type RouteRef } from "./security-routes";

/**
 * Issue 9 item 3: fast-check bodies and query strings against every registered route (read
 * from Fastify's route tree), as an admin, as a customer and anonymously. Never a 500; and a
 * rejected request (4xx) writes nothing: every table's row count is unchanged.
 */

let h: ApiHarness;
let routes: RouteRef[];
let tokens: Record<"admin" | "customer" | "none", string | null>;
const SECRET = "action-secret-fuzz-4b8e1d";

beforeAll(async () => {
  h = await createApiHarness({
    env: {
      AUTH0_ACTION_SECRET: SECRET,
      STRIPE_WEBHOOK_SECRET: "whsec_fuzz0000000000000000000000",
    },
  });
  routes = listRoutes(h.app).filter(
    // The docs UI serves static files; Bull Board's UI is fuzzed through its JSON API routes.
    (r) => !r.pattern.startsWith("/docs/ui"),
  );
  const repo = new CustomerRepository(h.db.database.db);
  await repo.insert({ auth0UserId: "auth0|fuzzer", stripeCustomerId: "cus_fuzz", tier: "standard" });
  tokens = {
    admin: await h.auth0.mintToken({
      sub: "auth0|fuzz-admin",
      permissions: ["billing:admin"],
      expiresIn: 3600,
    }),
    customer: await h.auth0.mintToken({ sub: "auth0|fuzzer", expiresIn: 3600 }),
    none: null,
  };
}, 60_000);

afterAll(async () => {
  await h?.close();
});

let countQuery: string | null = null;

/** Row count of every table, in one round trip (the query is built once from the catalog). */
async function rowCounts(): Promise<Record<string, number>> {
  if (countQuery === null) {
    const tables = await executeRows<{ table_name: string }>(
      h.db.database.db,
      "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1",
    );
    countQuery = tables
      .map(({ table_name }) => `select '${table_name}' as t, count(*) as n from "${table_name}"`)
      .join(" union all ");
  }
  const rows = await executeRows<{ t: string; n: unknown }>(h.db.database.db, countQuery);
  return Object.fromEntries(rows.map((r) => [r.t, Number(r.n)]));
}

/** Values that break naive parsers: types, sizes, unicode, injection-looking strings. */
const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 50 }),
  fc.constantFrom(
    "",
    " ",
    "NaN",
    "-1",
    "1e400",
    "9".repeat(400),
    "2026-13",
    "2026-02",
    "0000-00",
    "' or 1=1 --",
    "../../etc/passwd",
    "\u0000",
    "%00",
    "auth0|fuzzer",
    "cus_fuzz",
    "enterprise",
    "free",
    "csv",
    "items",
    "x".repeat(5000),
  ),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const jsonValue = fc.oneof(
  nasty,
  fc.array(nasty, { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 12 }), nasty, { maxKeys: 4 }),
);
const knownKeys = fc.constantFrom(
  "customer_id",
  "month",
  "format",
  "detail",
  "page",
  "limit",
  "subscription_tier",
  "custom_quota",
  "from",
  "to",
  "wait",
  "error_id",
  "error_ids",
  "user_id",
  "email",
  "name",
  "status",
);
const body = fc.oneof(
  fc.dictionary(fc.oneof(knownKeys, fc.string({ maxLength: 10 })), jsonValue, { maxKeys: 6 }),
  jsonValue,
);
const rawBody = fc.oneof(
  body.map((b) => JSON.stringify(b)),
  fc.constantFrom("{", "[1,2", "not json", '{"a":1}{', "\u0000", "null", ""),
);
const query = fc.dictionary(
  knownKeys,
  fc.oneof(nasty.map(String), fc.array(nasty.map(String), { maxLength: 3 })),
  {
    maxKeys: 5,
  },
);

function toQueryString(q: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) for (const one of Array.isArray(v) ? v : [v]) params.append(k, one);
  const s = params.toString();
  return s ? `?${s}` : "";
}

it("never answers 5xx and a refused request never writes", async () => {
  expect(routes.length).toBeGreaterThan(10);
  const failures: string[] = [];
  const caller = fc.constantFrom("admin", "customer", "none", "service") as fc.Arbitrary<
    "admin" | "customer" | "none" | "service"
  >;
  // The bodyless GET routes of Bull Board's UI are many; each route gets the same number of runs.
  for (const route of routes) {
    await fc
      .assert(
        fc.asyncProperty(query, rawBody, caller, async (q, payload, who) => {
          const authorization =
            who === "service" ? `Bearer ${SECRET}` : tokens[who] ? `Bearer ${tokens[who]}` : undefined;
          const hasBody = !["GET", "HEAD", "DELETE"].includes(route.method);
          const before = await rowCounts();
          const res = await h.app.inject({
            method: route.method as "GET",
            url: `${route.url}${toQueryString(q)}`,
            headers: {
              ...(authorization ? { authorization } : {}),
              ...(hasBody ? { "content-type": "application/json" } : {}),
            },
            ...(hasBody ? { payload } : {}),
          });
          if (res.statusCode >= 500 && res.statusCode !== 503) {
            failures.push(
              `${route.method} ${route.url}${toQueryString(q)} as ${who} → ${res.statusCode} ${res.body.slice(0, 200)}`,
            );
            return false;
          }
          if (res.statusCode >= 400) {
            const after = await rowCounts();
            if (JSON.stringify(after) !== JSON.stringify(before)) {
              failures.push(
                `${route.method} ${route.url} as ${who} → ${res.statusCode} but wrote: ${JSON.stringify({ before, after })}`,
              );
              return false;
            }
          }
          return true;
        }),
        { numRuns: route.pattern.startsWith("/admin/queues") ? 8 : 40, seed: 9, endOnFailure: true },
      )
      .catch((error: unknown) => {
        // A thrown error (not a false property) is a finding too.
        failures.push(`${route.method} ${route.pattern}: ${String(error).slice(0, 300)}`);
      });
  }
  expect(failures).toEqual([]);
}, 240_000);
