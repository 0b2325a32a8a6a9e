import type { AppConfig } from "@sparks/config";
import { BaseError } from "@sparks/core";
import { z } from "zod";

const tokenAnswer = z.object({
  access_token: z.string().min(1),
  expires_in: z.number().positive().optional(),
});

/** Why writing to Auth0 failed; signup still succeeds (the mapping is stored in Sparks). */
export class Auth0ManagementError extends BaseError<{ status: number | null }> {
  override readonly name = "Auth0ManagementError";
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    // No answer, 429 and 5xx may pass later; any other 4xx is this request's own fault.
    const retryable = status === null || status === 429 || status >= 500;
    super(message, { retryable, code: "auth0_management_failed", context: { status } });
  }
}

export interface Auth0ManagementOptions {
  /** Tenant origin, e.g. `https://example.eu.auth0.com` (no trailing slash). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Where the Management API lives: `https://AUTH0_DOMAIN` (the canonical tenant domain, which
 * the Management API requires even when logins use a custom domain). Without AUTH0_DOMAIN it
 * falls back to the origin of AUTH0_ISSUER, which is how a local fake (plain http) is reached.
 * Null when the client id/secret are not both set: then app_metadata is not written.
 */
export function managementOptionsFromConfig(auth0: AppConfig["auth0"]): Auth0ManagementOptions | null {
  if (!auth0.clientId || !auth0.clientSecret) return null;
  let baseUrl: string | null = null;
  if (auth0.domain) baseUrl = `https://${auth0.domain}`;
  else if (auth0.issuer) baseUrl = new URL(auth0.issuer).origin;
  if (baseUrl === null) return null;
  return { baseUrl, clientId: auth0.clientId, clientSecret: auth0.clientSecret };
}

/**
 * The two Auth0 Management API calls signup needs: a client-credentials token (cached until a
 * minute before it expires) and `PATCH /api/v2/users/{id}` with `app_metadata`, which Auth0
 * merges into what the user already has.
 */
export class Auth0ManagementClient {
  private token: { value: string; expiresAt: number } | null = null;
  private readonly now: () => number;

  constructor(private readonly options: Auth0ManagementOptions) {
    this.now = options.now ?? Date.now;
  }

  async setAppMetadata(userId: string, appMetadata: Record<string, string>): Promise<void> {
    let response = await this.patchUser(userId, appMetadata, await this.accessToken());
    if (response.status === 401) {
      // The cached token was revoked or rotated: one fresh token, one more try.
      this.token = null;
      response = await this.patchUser(userId, appMetadata, await this.accessToken());
    }
    if (!response.ok) {
      throw new Auth0ManagementError(
        `Auth0 PATCH /api/v2/users answered ${response.status}`,
        response.status,
      );
    }
  }

  private patchUser(userId: string, appMetadata: Record<string, string>, token: string): Promise<Response> {
    return this.fetch(`/api/v2/users/${encodeURIComponent(userId)}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ app_metadata: appMetadata }),
    });
  }

  private async accessToken(): Promise<string> {
    if (this.token !== null && this.token.expiresAt > this.now()) return this.token.value;
    const response = await this.fetch("/oauth/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        grant_type: "client_credentials",
        client_id: this.options.clientId,
        client_secret: this.options.clientSecret,
        audience: `${this.options.baseUrl}/api/v2/`,
      }),
    });
    if (!response.ok) {
      throw new Auth0ManagementError(`Auth0 /oauth/token answered ${response.status}`, response.status);
    }
    const parsed = tokenAnswer.safeParse(await response.json());
    if (!parsed.success) throw new Auth0ManagementError("Auth0 /oauth/token answered without a token", null);
    const lifetimeMs = (parsed.data.expires_in ?? 3600) * 1000;
    this.token = { value: parsed.data.access_token, expiresAt: this.now() + lifetimeMs - 60_000 };
    return parsed.data.access_token;
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.options.baseUrl}${path}`, {
        ...init,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
      });
    } catch (e) {
      throw new Auth0ManagementError(
        `Auth0 ${path} unreachable: ${e instanceof Error ? e.message : String(e)}`,
        null,
      );
    }
  }
}
