import type { AppConfig } from "@sparks/config";
import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import { ServiceUnavailableError, UnauthorizedError } from "../errors/http-errors";
import { ADMIN_PERMISSION } from "./identity";

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
 */
export class TokenVerifier {
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly issuer: string;

  constructor(private readonly options: TokenVerifierOptions) {
    this.issuer = normalizeIssuer(options.issuer);
    this.jwks = createRemoteJWKSet(new URL(options.jwksUri), { timeoutDuration: 5_000 });
  }

  async verify(token: string): Promise<VerifiedToken> {
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
