import type { CustomerRepository } from "@sparks/db";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { ForbiddenError, ServiceUnavailableError, UnauthorizedError } from "../errors/http-errors";
import { ExpiringLruCache } from "./expiring-lru.cache";
import type { AuthMode, Identity } from "./identity";
import type { TokenVerifier } from "./token-verifier";

declare module "fastify" {
  interface FastifyRequest {
    /** Set once the request's bearer token is verified; null on public routes. */
    identity: Identity | null;
  }
  interface FastifyInstance {
    /** Verifies the bearer token (once per request) and returns the caller's identity. */
    authenticate(request: FastifyRequest): Promise<Identity>;
    /** preHandler: any valid token. */
    requireAuth(request: FastifyRequest): Promise<void>;
    /** preHandler: a token with billing:admin. */
    requireAdmin(request: FastifyRequest): Promise<void>;
    /** The customers table, for identity and customer-scope lookups. */
    customers: CustomerRepository;
  }
  interface FastifyContextConfig {
    /** Who may call this route; absent = public. See AuthMode. */
    auth?: AuthMode;
  }
}

export interface Auth0PluginOptions {
  /** null when Auth0 is not configured: protected routes answer 503. */
  verifier: TokenVerifier | null;
  customers: CustomerRepository;
}

/**
 * How long a found `sub → customer id` link is reused. The link never changes once made
 * (auth0_user_id is unique and only ever filled in, customers are never deleted), so this only
 * bounds what a hand edit in the database would take to show. An absent link is never
 * remembered: a user who just signed up is linked on their next call.
 */
export const CUSTOMER_LINK_TTL_MS = 60_000;
const CUSTOMER_LINK_CACHE_SIZE = 10_000;

const BEARER = /^Bearer ([A-Za-z0-9\-_.~+/]+=*)$/;

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (header === undefined || header === "") {
    throw new UnauthorizedError(
      "missing Authorization header; send 'Authorization: Bearer <Auth0 access token>'",
    );
  }
  const match = BEARER.exec(header.trim());
  if (!match?.[1]) throw new UnauthorizedError("Authorization header must be 'Bearer <Auth0 access token>'");
  return match[1];
}

async function auth0Plugin(app: FastifyInstance, options: Auth0PluginOptions): Promise<void> {
  const { verifier, customers } = options;
  app.decorateRequest("identity", null);
  const links = new ExpiringLruCache<string, string>(CUSTOMER_LINK_CACHE_SIZE);

  async function customerIdOf(sub: string): Promise<string | null> {
    const nowMs = Date.now();
    const cached = links.get(sub, nowMs);
    if (cached !== undefined) return cached;
    const customer = await customers.findByAuth0UserId(sub);
    if (customer) links.set(sub, customer.id, nowMs + CUSTOMER_LINK_TTL_MS, nowMs);
    return customer?.id ?? null;
  }

  async function authenticate(request: FastifyRequest): Promise<Identity> {
    if (request.identity) return request.identity;
    if (!verifier) {
      throw new ServiceUnavailableError("auth_not_configured", "set AUTH0_DOMAIN and AUTH0_AUDIENCE");
    }
    const verified = await verifier.verify(bearerToken(request));
    const identity: Identity = {
      sub: verified.sub,
      role: verified.admin ? "admin" : "customer",
      customerId: await customerIdOf(verified.sub),
      // A copy: the verified token (and its list) may be shared with other requests.
      permissions: [...verified.permissions],
    };
    request.identity = identity;
    return identity;
  }

  async function enforce(request: FastifyRequest, mode: AuthMode): Promise<void> {
    const identity = await authenticate(request);
    if (mode === "admin" && identity.role !== "admin") {
      throw new ForbiddenError("this endpoint needs an admin token (billing:admin permission)");
    }
  }

  app.decorate("customers", customers);
  app.decorate("authenticate", authenticate);
  app.decorate("requireAuth", (request: FastifyRequest) => enforce(request, "any"));
  app.decorate("requireAdmin", (request: FastifyRequest) => enforce(request, "admin"));

  // Authenticate in onRequest, before the body is parsed: an anonymous caller learns nothing
  // about validation and costs no parsing.
  app.addHook("onRequest", async (request) => {
    const mode = request.routeOptions.config.auth;
    if (mode) await enforce(request, mode);
  });

  // Routes that declare `auth` show up in the OpenAPI document as needing the bearer token.
  app.addHook("onRoute", (route) => {
    if (route.config?.auth) route.schema = { ...route.schema, security: [{ bearerAuth: [] }] };
  });
}

/** Registered with fastify-plugin so the decorators and hooks apply to every route. */
export const auth0 = fp(auth0Plugin, { name: "sparks-auth0", fastify: "5.x" });
