/**
 * What the home page needs to open the usage page as a demo customer or as the admin: the demo
 * customers and a signer of short-lived access tokens (the demo's local Auth0 emulator). Only
 * `sparks start` in demo mode passes one; with real Auth0 settings there is none.
 */
export interface DemoAccess {
  /** Auth0 user ids of the demo customers, in display order. */
  customers: readonly string[];
  /** A short-lived RS256 token for `sub`, with `billing:admin` when `admin`. */
  signToken(options: { sub: string; admin?: boolean }): Promise<string>;
  /** Bull Board's demo operator login, shown on the page (it only opens this local demo). */
  bullBoardLogin?: { user: string; password: string };
}

/** The `sub` of the demo admin's tokens. */
export const DEMO_ADMIN_SUB = "auth0|demo-admin";
