import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

/** The permission that makes a token an admin (Auth0 RBAC), as Sparks reads it. */
const ADMIN_PERMISSION = "billing:admin";

export interface Auth0EmulatorOptions {
  port?: number;
  host?: string;
  /** The API identifier tokens are issued for; default `https://sparks.demo/api`. */
  audience?: string;
  /** Lifetime of a signed token in seconds; default 3600 (the demo links are made per page view). */
  tokenTtlSeconds?: number;
}

export interface SignTokenOptions {
  sub: string;
  /** Adds `billing:admin` to the token's `permissions`. */
  admin?: boolean;
  ttlSeconds?: number;
}

export interface Auth0Emulator {
  url: string;
  issuer: string;
  audience: string;
  jwksUri: string;
  /** `NAME=value` pairs that point Sparks' token verifier at this emulator. */
  env: { AUTH0_ISSUER: string; AUTH0_AUDIENCE: string; AUTH0_JWKS_URI: string };
  /** A short-lived RS256 access token shaped like Auth0's (iss, aud, sub, permissions). */
  signToken(options: SignTokenOptions): Promise<string>;
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

/**
 * A local stand-in for an Auth0 tenant, for the demo only: a key pair made at start (never
 * written anywhere), its public half served as a JWKS and an OpenID discovery document, and a
 * signer for access tokens. Sparks verifies these tokens with the same code as Auth0's.
 */
export async function createAuth0Emulator(options: Auth0EmulatorOptions = {}): Promise<Auth0Emulator> {
  const kid = `sparks-demo-${Date.now().toString(36)}`;
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const host = options.host ?? "127.0.0.1";
  const audience = options.audience ?? "https://sparks.demo/api";
  const ttl = options.tokenTtlSeconds ?? 3600;
  let issuer = "";
  let jwksUri = "";

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "GET") return send(405, { error: "method_not_allowed" });
    if (path === "/.well-known/jwks.json") return send(200, { keys: [publicJwk] });
    if (path === "/.well-known/openid-configuration") {
      return send(200, {
        issuer,
        jwks_uri: jwksUri,
        id_token_signing_alg_values_supported: ["RS256"],
      });
    }
    return send(404, { error: "not_found" });
  });
  const address = await listen(server, host, options.port ?? 0);
  const url = `http://${host}:${address.port}`;
  issuer = `${url}/`;
  jwksUri = `${url}/.well-known/jwks.json`;

  return {
    url,
    issuer,
    audience,
    jwksUri,
    env: { AUTH0_ISSUER: issuer, AUTH0_AUDIENCE: audience, AUTH0_JWKS_URI: jwksUri },
    async signToken(o) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ permissions: o.admin ? [ADMIN_PERMISSION] : [] })
        .setProtectedHeader({ alg: "RS256", typ: "JWT", kid })
        .setSubject(o.sub)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + (o.ttlSeconds ?? ttl))
        .sign(privateKey);
    },
    close() {
      return new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
    },
  };
}
