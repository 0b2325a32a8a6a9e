import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

export interface MintTokenOptions {
  sub: string;
  /** Auth0 RBAC `permissions` claim. */
  permissions?: string[];
  /** Space-separated OAuth scope claim. */
  scope?: string;
  /** jose time span ("1h") or seconds from now; negative seconds give an expired token. */
  expiresIn?: string | number;
  audience?: string | string[];
  issuer?: string;
  /** Seconds from now (may be in the future, for `nbf` tests). */
  notBefore?: number;
  kid?: string;
  /** RS256 by default; another RSA algorithm (RS384, RS512, PS256) signs with the same key material. */
  alg?: string;
  /** Another private key, e.g. to sign a token the JWKS does not vouch for. */
  key?: SigningKey;
  /** Extra claims merged into the payload. */
  claims?: Record<string, unknown>;
}

export interface TestAuth0 {
  issuer: string;
  audience: string;
  jwksUri: string;
  kid: string;
  /** Env variables pointing Sparks' config at this fake. */
  env: { AUTH0_ISSUER: string; AUTH0_AUDIENCE: string; AUTH0_JWKS_URI: string };
  /** How many times the JWKS document was fetched (to check the verifier caches it). */
  jwksRequests(): number;
  mintToken(options: MintTokenOptions): Promise<string>;
  /** Attack tokens that a correct verifier must reject. */
  attacks: {
    /** Unsigned token with `alg: none`. */
    algNone(options: MintTokenOptions): string;
    /** HS256 token using the public key PEM as the HMAC secret (key-confusion attack). */
    hs256WithPublicKey(options: MintTokenOptions): Promise<string>;
    /** RS256 token signed by a key not in the JWKS but carrying the JWKS key's kid. */
    otherKey(options: MintTokenOptions): Promise<string>;
    /** Signed by another key under a kid the JWKS does not list. */
    unknownKid(options: MintTokenOptions): Promise<string>;
    /** A valid token whose payload was rewritten (e.g. to grant billing:admin) after signing. */
    tamperedPayload(options: MintTokenOptions, changes: Record<string, unknown>): Promise<string>;
  };
  close(): Promise<void>;
}

function base64url(value: string | Uint8Array): string {
  return Buffer.from(value).toString("base64url");
}

function listen(server: Server): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server.address() as AddressInfo));
  });
}

/**
 * A stand-in for an Auth0 tenant: an RSA key pair whose public half is served as a JWKS over
 * real HTTP on 127.0.0.1, so the API's verifier runs exactly as it does against Auth0.
 */
export async function createTestAuth0(options: { audience?: string } = {}): Promise<TestAuth0> {
  const kid = "test-key-1";
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const publicPem = await exportSPKI(publicKey);
  const privateJwk = await exportJWK(privateKey);
  let requests = 0;

  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/.well-known/jwks.json") {
      requests += 1;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [publicJwk] }));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":"not_found"}');
  });
  const address = await listen(server);
  const base = `http://127.0.0.1:${address.port}`;
  const issuer = `${base}/`;
  const audience = options.audience ?? "https://sparks.test/api";
  const jwksUri = `${base}/.well-known/jwks.json`;

  function payloadOf(o: MintTokenOptions): Record<string, unknown> {
    const payload: Record<string, unknown> = { ...o.claims };
    if (o.permissions) payload.permissions = o.permissions;
    if (o.scope !== undefined) payload.scope = o.scope;
    return payload;
  }

  async function mintToken(o: MintTokenOptions): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const alg = o.alg ?? "RS256";
    const jwt = new SignJWT(payloadOf(o))
      .setProtectedHeader({ alg, typ: "JWT", kid: o.kid ?? kid })
      .setSubject(o.sub)
      .setIssuer(o.issuer ?? issuer)
      .setAudience(o.audience ?? audience)
      .setIssuedAt(now - 5);
    const exp = o.expiresIn ?? "1h";
    jwt.setExpirationTime(typeof exp === "number" ? now + exp : exp);
    if (o.notBefore !== undefined) jwt.setNotBefore(now + o.notBefore);
    // WebCrypto binds a key to one hash, so another RSA alg re-imports the same key material.
    const key = o.key ?? (alg === "RS256" ? privateKey : await importJWK(privateJwk, alg));
    return jwt.sign(key);
  }

  function unsignedClaims(o: MintTokenOptions): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return {
      ...payloadOf(o),
      sub: o.sub,
      iss: o.issuer ?? issuer,
      aud: o.audience ?? audience,
      iat: now,
      exp: now + 3600,
    };
  }

  const attacks: TestAuth0["attacks"] = {
    algNone(o) {
      const header = base64url(JSON.stringify({ alg: "none", typ: "JWT" }));
      return `${header}.${base64url(JSON.stringify(unsignedClaims(o)))}.`;
    },
    async hs256WithPublicKey(o) {
      return new SignJWT(unsignedClaims(o))
        .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: o.kid ?? kid })
        .sign(new TextEncoder().encode(publicPem));
    },
    async otherKey(o) {
      const other = await generateKeyPair("RS256");
      return mintToken({ ...o, key: other.privateKey, kid: o.kid ?? kid });
    },
    async unknownKid(o) {
      const other = await generateKeyPair("RS256");
      return mintToken({ ...o, key: other.privateKey, kid: "unknown-kid" });
    },
    async tamperedPayload(o, changes) {
      const token = await mintToken(o);
      const [header, payload, signature] = token.split(".");
      const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString("utf8")) as Record<
        string,
        unknown
      >;
      return `${header}.${base64url(JSON.stringify({ ...claims, ...changes }))}.${signature}`;
    },
  };

  return {
    issuer,
    audience,
    jwksUri,
    kid,
    env: { AUTH0_ISSUER: issuer, AUTH0_AUDIENCE: audience, AUTH0_JWKS_URI: jwksUri },
    jwksRequests: () => requests,
    mintToken,
    attacks,
    close() {
      return new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      });
    },
  };
}
