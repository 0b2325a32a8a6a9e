import type { FastifyRequest } from "fastify";
import { BadRequestError, ForbiddenError, NotFoundError, UnauthorizedError } from "../errors/http-errors";

export interface CustomerScope {
  /** The Sparks customer id the request acts on. */
  customerId: string;
  auth0UserId: string | null;
}

/**
 * For "customer (own) / admin (any)" endpoints (SPEC §4). `customerIdFromInput` is what the
 * caller named (query or body), a Sparks customer id or an Auth0 user id (SPEC §5):
 * - a customer may omit it or name itself; naming anyone else is 403 (whether or not that
 *   customer exists, so ids cannot be probed);
 * - an admin must name one; an unknown one is 404.
 */
export async function resolveCustomerScope(
  request: FastifyRequest,
  customerIdFromInput: string | null | undefined,
): Promise<CustomerScope> {
  const identity = request.identity;
  if (!identity) throw new UnauthorizedError("this endpoint needs an Auth0 access token");
  const named = customerIdFromInput?.trim() || null;
  const customers = request.server.customers;

  if (identity.role === "admin") {
    if (!named) {
      throw new BadRequestError("customer_id: is required with an admin token (a Sparks or Auth0 user id)");
    }
    const customer = await customers.findByReference(named);
    if (!customer) throw new NotFoundError(`customer_id: no customer ${named}`, "customer_not_found");
    return { customerId: customer.id, auth0UserId: customer.auth0UserId };
  }

  if (named && named !== identity.sub && named !== identity.customerId) {
    throw new ForbiddenError("customer_id: a customer token may only act for its own customer");
  }
  if (!identity.customerId) {
    throw new ForbiddenError(
      "this Auth0 user is not linked to a Sparks customer yet (sign up first)",
      "customer_not_linked",
    );
  }
  return { customerId: identity.customerId, auth0UserId: identity.sub };
}
