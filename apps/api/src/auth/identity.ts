/** SPEC §4: this permission (Auth0 RBAC `permissions` or OAuth `scope`) makes a token an admin. */
export const ADMIN_PERMISSION = "billing:admin";

export type Role = "admin" | "customer";

/** Who is calling, derived only from a verified access token (never from the request body). */
export interface Identity {
  sub: string;
  role: Role;
  /** The Sparks customer linked to `sub`; null before signup (and for most admins). */
  customerId: string | null;
  /** The token's `permissions` claim and `scope` entries, deduplicated. */
  permissions: string[];
}

/**
 * Who may call a route, declared in its route config (`config: { auth: "admin" }`):
 * - `admin`: only tokens with billing:admin;
 * - `customer`: any valid token; the handler scopes it with `resolveCustomerScope`
 *   (a customer acts for itself, an admin for any customer);
 * - `any`: any valid token (e.g. `/me`).
 * Routes without `auth` are public (health, docs, webhooks with their own verification).
 */
export type AuthMode = "admin" | "customer" | "any";
