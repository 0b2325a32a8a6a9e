import type { AppConfig } from "@sparks/config";
import { CHECK_TIMEOUT_MS, type CheckResult, errorText, fail, ok } from "./doctor-check";

const DAY_MS = 24 * 3_600_000;

async function getJson(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

function firstTime(body: unknown, key: string): string | null {
  const data = (body as { data?: Array<Record<string, unknown>> } | null)?.data;
  const value = data?.[0]?.[key];
  return typeof value === "string" ? value : null;
}

/** Keys accepted, which API answers (v2, or the v1 fallback), and whether usage is arriving. */
export async function checkLangfuse(config: AppConfig): Promise<CheckResult> {
  const id = "langfuse";
  const l = config.langfuse;
  if (!l.publicKey || !l.secretKey) {
    return fail(
      id,
      "LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY are not set",
      "set both (Langfuse → Settings → API keys)",
    );
  }
  const base = l.baseUrl.replace(/\/+$/, "");
  const auth = { authorization: `Basic ${Buffer.from(`${l.publicKey}:${l.secretKey}`).toString("base64")}` };
  const since = new Date(Date.now() - DAY_MS).toISOString();
  try {
    let api: "v2" | "v1" | null = null;
    let seen: string | null = null;
    if (l.api !== "v1") {
      const v2 = await getJson(
        `${base}/api/public/v2/observations?limit=1&fields=basic&fromStartTime=${encodeURIComponent(since)}`,
        auth,
      );
      if (v2.status === 401 || v2.status === 403) {
        return fail(
          id,
          `${base} rejected the keys (HTTP ${v2.status})`,
          "check LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and LANGFUSE_BASEURL (EU/US region)",
        );
      }
      if (v2.status === 200) {
        api = "v2";
        seen = firstTime(v2.body, "startTime");
      } else if (v2.status !== 404 || l.api === "v2") {
        return fail(
          id,
          `GET /api/public/v2/observations answered HTTP ${v2.status}`,
          l.api === "v2"
            ? "this server has no v2 API: set LANGFUSE_API=auto (or v1)"
            : "check LANGFUSE_BASEURL",
        );
      }
    }
    if (api === null) {
      const v1 = await getJson(
        `${base}/api/public/traces?limit=1&fromTimestamp=${encodeURIComponent(since)}`,
        auth,
      );
      if (v1.status === 401 || v1.status === 403) {
        return fail(
          id,
          `${base} rejected the keys (HTTP ${v1.status})`,
          "check LANGFUSE_PUBLIC_KEY, LANGFUSE_SECRET_KEY and LANGFUSE_BASEURL",
        );
      }
      if (v1.status !== 200) {
        return fail(
          id,
          `neither the v2 nor the v1 API answered (v1: HTTP ${v1.status})`,
          "check LANGFUSE_BASEURL points at a Langfuse server",
        );
      }
      api = "v1";
      seen = firstTime(v1.body, "timestamp");
    }
    const activity = seen ? `last observation seen ${seen}` : "no observation in the last 24 h";
    return ok(id, `keys accepted by ${base}, API ${api}${l.api === "auto" ? " (auto)" : ""}, ${activity}`);
  } catch (e) {
    return fail(id, `${base} not reachable: ${errorText(e)}`, "check LANGFUSE_BASEURL and the network");
  }
}

/** JWKS served with at least one key, the issuer's discovery document naming the same issuer, an audience. */
export async function checkAuth0(config: AppConfig): Promise<CheckResult> {
  const id = "auth0";
  const a = config.auth0;
  if (!a.issuer || !a.jwksUri) {
    return fail(
      id,
      "AUTH0_DOMAIN (or AUTH0_ISSUER and AUTH0_JWKS_URI) is not set: every API call answers 503",
      "set AUTH0_DOMAIN=your-tenant.eu.auth0.com",
    );
  }
  if (!a.audience) {
    return fail(
      id,
      "AUTH0_AUDIENCE is not set: no token can be verified",
      "set AUTH0_AUDIENCE to the API identifier of Sparks in Auth0 (Applications → APIs)",
    );
  }
  try {
    const jwks = await getJson(a.jwksUri);
    const keys = (jwks.body as { keys?: unknown[] } | null)?.keys;
    if (jwks.status !== 200 || !Array.isArray(keys) || keys.length === 0) {
      return fail(
        id,
        `JWKS at ${a.jwksUri} answered HTTP ${jwks.status} without keys`,
        "check AUTH0_DOMAIN / AUTH0_JWKS_URI",
      );
    }
    const discoveryUrl = `${a.issuer.replace(/\/?$/, "/")}.well-known/openid-configuration`;
    const discovery = await getJson(discoveryUrl);
    const issuer = (discovery.body as { issuer?: unknown } | null)?.issuer;
    if (discovery.status !== 200 || typeof issuer !== "string") {
      return fail(
        id,
        `issuer ${a.issuer} has no discovery document (HTTP ${discovery.status})`,
        "check AUTH0_ISSUER (default https://$AUTH0_DOMAIN/)",
      );
    }
    if (issuer.replace(/\/?$/, "/") !== a.issuer.replace(/\/?$/, "/")) {
      return fail(
        id,
        `issuer mismatch: configured ${a.issuer}, the tenant says ${issuer}`,
        `set AUTH0_ISSUER=${issuer}`,
      );
    }
    return ok(id, `JWKS reachable (${keys.length} key(s)), issuer ${a.issuer}, audience ${a.audience}`);
  } catch (e) {
    return fail(
      id,
      `${a.jwksUri} not reachable: ${errorText(e)}`,
      "check AUTH0_DOMAIN / AUTH0_JWKS_URI and the network",
    );
  }
}
