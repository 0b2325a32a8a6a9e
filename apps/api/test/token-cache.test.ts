import { createTestAuth0, type TestAuth0 } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExpiringLruCache } from "../src/auth/expiring-lru.cache";
import { TokenVerifier, VERIFIED_TOKEN_TTL_MS } from "../src/auth/token-verifier";

let auth0: TestAuth0;

beforeAll(async () => {
  auth0 = await createTestAuth0();
});
afterAll(async () => {
  await auth0?.close();
});

/** A verifier on a clock the test moves. */
function verifierAt(clock: { ms: number }, cacheSize?: number) {
  return new TokenVerifier({
    issuer: auth0.issuer,
    audience: auth0.audience,
    jwksUri: auth0.jwksUri,
    now: () => new Date(clock.ms),
    ...(cacheSize === undefined ? {} : { cacheSize }),
  });
}

function rejection(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => "accepted",
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );
}

describe("TokenVerifier remembers verified tokens", () => {
  it("answers a repeated token the same way, and stops at its exp like a full check", async () => {
    const clock = { ms: Date.now() };
    const verifier = verifierAt(clock);
    const token = await auth0.mintToken({
      sub: "auth0|cache1",
      permissions: ["billing:admin"],
      expiresIn: 60,
    });
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(second).toEqual(first);
    expect(second.admin).toBe(true);

    // Past exp and the 5 s tolerance: refused although it was accepted (and remembered) before.
    clock.ms += 70_000;
    expect(await rejection(verifier.verify(token))).toMatch(/expired/);
  });

  it("a remembered token is refused before its nbf when the clock goes back", async () => {
    const clock = { ms: Date.now() + 3_600_000 };
    const verifier = verifierAt(clock);
    const token = await auth0.mintToken({ sub: "auth0|cache2", notBefore: 3_000, expiresIn: 7_200 });
    expect((await verifier.verify(token)).sub).toBe("auth0|cache2");
    clock.ms = Date.now();
    expect(await rejection(verifier.verify(token))).toMatch(/not valid yet/);
  });

  it("is not reused past VERIFIED_TOKEN_TTL_MS even for a long-lived token", async () => {
    const clock = { ms: Date.now() };
    const verifier = verifierAt(clock);
    const token = await auth0.mintToken({ sub: "auth0|cache3", expiresIn: 86_400 });
    await verifier.verify(token);
    const requests = auth0.jwksRequests();
    clock.ms += VERIFIED_TOKEN_TTL_MS + 1;
    // Still valid, so accepted again, through a full check (the JWKS is cached by jose).
    expect((await verifier.verify(token)).sub).toBe("auth0|cache3");
    expect(auth0.jwksRequests()).toBe(requests);
  });

  it("variants of a remembered token (tampered payload, other key, alg none) are still refused", async () => {
    const clock = { ms: Date.now() };
    const verifier = verifierAt(clock);
    const genuine = await auth0.mintToken({ sub: "auth0|cache4" });
    await verifier.verify(genuine);
    const [header, , signature] = genuine.split(".");
    const forged = `${header}.${Buffer.from(
      JSON.stringify({
        sub: "auth0|cache4",
        iss: auth0.issuer,
        aud: auth0.audience,
        exp: Math.floor(clock.ms / 1000) + 3600,
        permissions: ["billing:admin"],
      }),
    ).toString("base64url")}.${signature}`;
    expect(await rejection(verifier.verify(forged))).toMatch(/signature/);
    expect(await rejection(verifier.verify(`${genuine}x`))).not.toBe("accepted");
    expect(await rejection(verifier.verify(await auth0.attacks.otherKey({ sub: "auth0|cache4" })))).toMatch(
      /signature/,
    );
    expect(await rejection(verifier.verify(auth0.attacks.algNone({ sub: "auth0|cache4" })))).not.toBe(
      "accepted",
    );
    // The genuine one still passes.
    expect((await verifier.verify(genuine)).sub).toBe("auth0|cache4");
  });

  it("never remembers a refusal: an early token passes once its nbf is reached", async () => {
    const clock = { ms: Date.now() };
    const verifier = verifierAt(clock);
    const token = await auth0.mintToken({ sub: "auth0|cache5", notBefore: 600, expiresIn: 7_200 });
    expect(await rejection(verifier.verify(token))).toMatch(/not valid yet/);
    clock.ms += 600_000;
    expect((await verifier.verify(token)).sub).toBe("auth0|cache5");
  });

  it("works the same with the cache off", async () => {
    const clock = { ms: Date.now() };
    const verifier = verifierAt(clock, 0);
    const token = await auth0.mintToken({ sub: "auth0|cache6", expiresIn: 60 });
    expect((await verifier.verify(token)).sub).toBe("auth0|cache6");
    clock.ms += 70_000;
    expect(await rejection(verifier.verify(token))).toMatch(/expired/);
  });
});

describe("ExpiringLruCache", () => {
  it("never answers past an entry's expiry", () => {
    const cache = new ExpiringLruCache<string, number>(10);
    cache.set("a", 1, 1_000, 0);
    expect(cache.get("a", 999)).toBe(1);
    expect(cache.get("a", 1_000)).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.set("b", 2, 500, 500);
    expect(cache.get("b", 500)).toBeUndefined();
  });

  it("stays within its size, dropping the least recently used", () => {
    const cache = new ExpiringLruCache<number, number>(3);
    for (const k of [1, 2, 3]) cache.set(k, k, 10_000, 0);
    expect(cache.get(1, 1)).toBe(1); // 1 is now the most recently used
    cache.set(4, 4, 10_000, 1);
    expect(cache.size).toBe(3);
    expect(cache.get(2, 2)).toBeUndefined();
    expect([1, 3, 4].map((k) => cache.get(k, 2))).toEqual([1, 3, 4]);
    for (let k = 100; k < 1_000; k++) cache.set(k, k, 10_000, 3);
    expect(cache.size).toBe(3);
  });
});
