import type { AppConfig } from "@sparks/config";
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import { ServiceUnavailableError, UnauthorizedError } from "../errors/http-errors";
import { ExpiringLruCache } from "./expiring-lru.cache";
import { ADMIN_PERMISSION } from "./identity";

/**
 * Longest a verified token is reused without checking its signature again. Bounds how long a
 * token signed by a key just removed from the tenant's JWKS keeps working (jose itself keeps a
 * fetched JWKS up to 10 minutes, so this adds nothing new).
 */
export const VERIFIED_TOKEN_TTL_MS = 5 * 60_000;
/** Distinct tokens remembered; past it the least recently used is forgotten (and re-verified). */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

export interface VerifiedToken {
  sub: string;
  permissions: string[];
  admin: boolean;
  claims: JWTPayload;
}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  jwksUri: string;
  now?: () => Date;
  /** Seconds of clock skew tolerated on exp/nbf. */
  clockToleranceSeconds?: number;
  /** Verified tokens remembered (0 turns the cache off). */
  cacheSize?: number;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Auth0 issuers end with a slash (`https://tenant.auth0.com/`); tokens carry it that way. */
export function normalizeIssuer(issuer: string): string {
  return issuer.endsWith("/") ? issuer : `${issuer}/`;
}

/**
 * Verifies Auth0 access tokens: RS256 only (so `alg: none` and HS256 signed with the public
 * key are refused before any key is used), issuer, audience, exp/nbf, against a remote JWKS
 * created once so its keys are cached across requests.
 *
 * A client sends the same token on every call until it expires, and the RSA check is most of
 * a request's CPU, so a token that passed is remembered by its exact string: a later call with
 * the same bytes gets the same answer without the signature check, but only while the
 * verifier's clock is before the token's `exp` (without the skew tolerance, so never longer
 * than a full check would allow) and at most VERIFIED_TOKEN_TTL_MS. Any other string (a
 * tampered payload, another key, `alg: none`) misses and goes through the full check; failures
 * are never remembered.
 */
export class TokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly issuer: string;
  private readonly verified: ExpiringLruCache<string, VerifiedToken> | null;

  constructor(private readonly options: TokenVerifierOptions) {
    this.issuer = normalizeIssuer(options.issuer);
    this.jwks = createRemoteJWKSet(new URL(options.jwksUri), { timeoutDuration: 5_000 });
    const size = options.cacheSize ?? VERIFIED_TOKEN_CACHE_SIZE;
    this.verified = size > 0 ? new ExpiringLruCache(size) : null;
  }

  /** The token's identity; a remembered result is shared between calls, so treat it as read-only. */
  async verify(token: string): Promise<VerifiedToken> {
    const nowMs = this.options.now?.().getTime() ?? Date.now();
    const hit = this.verified?.get(token, nowMs);
    if (hit !== undefined && this.usableAt(hit, nowMs)) return hit;
    const result = await this.verifyFully(token);
    const exp = result.claims.exp;
    if (this.verified && typeof exp === "number") {
      this.verified.set(token, result, Math.min(exp * 1000, nowMs + VERIFIED_TOKEN_TTL_MS), nowMs);
    }
    return result;
  }

  /** A remembered token is also refused before its nbf (a clock set back), as a full check would. */
  private usableAt(token: VerifiedToken, nowMs: number): boolean {
    const nbf = token.claims.nbf;
    const tolerance = this.options.clockToleranceSeconds ?? 5;
    return typeof nbf !== "number" || nowMs >= (nbf - tolerance) * 1000;
  }

  private async verifyFully(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        algorithms: ["RS256"],
        issuer: this.issuer,
        audience: this.options.audience,
        currentDate: this.options.now?.(),
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
        requiredClaims: ["sub", "exp"],
      }));
    } catch (e) {
      throw translate(e);
    }
    const sub = payload.sub;
    if (typeof sub !== "string" || sub === "") throw new UnauthorizedError("token has no subject (sub)");
    const scope = typeof payload.scope === "string" ? payload.scope.split(" ").filter(Boolean) : [];
    const permissions = [...new Set([...stringList(payload.permissions), ...scope])];
    return { sub, permissions, admin: permissions.includes(ADMIN_PERMISSION), claims: payload };
  }
}

function translate(e: unknown): Error {
  if (e instanceof errors.JWTExpired) return new UnauthorizedError("token expired");
  if (e instanceof errors.JWTClaimValidationFailed) {
    switch (e.claim) {
      case "aud":
        return new UnauthorizedError("token audience does not match this API");
      case "iss":
        return new UnauthorizedError("token issuer does not match this API's Auth0 tenant");
      case "nbf":
        return new UnauthorizedError("token is not valid yet (nbf)");
      default:
        return new UnauthorizedError(`token claim ${e.claim} is invalid: ${e.reason}`);
    }
  }
  if (e instanceof errors.JOSEAlgNotAllowed)
    return new UnauthorizedError("token algorithm is not allowed (RS256 only)");
  if (e instanceof errors.JWSSignatureVerificationFailed)
    return new UnauthorizedError("token signature is invalid");
  if (e instanceof errors.JWKSNoMatchingKey) {
    return new UnauthorizedError("token key id (kid) matches no key of the Auth0 tenant");
  }
  if (e instanceof errors.JWKSMultipleMatchingKeys)
    return new UnauthorizedError("token key id (kid) is ambiguous");
  // The JWKS could not be fetched or read: our problem, not the caller's token.
  if (e instanceof errors.JWKSTimeout || e instanceof errors.JWKSInvalid) {
    return new ServiceUnavailableError(
      "auth_unavailable",
      "the Auth0 key set could not be fetched; try again",
    );
  }
  if (e instanceof errors.JOSEError) return new UnauthorizedError("token is malformed or invalid");
  return new ServiceUnavailableError("auth_unavailable", "the Auth0 key set could not be fetched; try again");
}

/** The verifier for this config, or null when Auth0 is not configured (routes then answer 503). */
export function createTokenVerifier(auth0: AppConfig["auth0"], now?: () => Date): TokenVerifier | null {
  if (!auth0.issuer || !auth0.audience || !auth0.jwksUri) return null;
  return new TokenVerifier({ issuer: auth0.issuer, audience: auth0.audience, jwksUri: auth0.jwksUri, now });
}
