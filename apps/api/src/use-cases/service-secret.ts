import { createHash, timingSafeEqual } from "node:crypto";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

const BEARER = /^Bearer (.+)$/;

/**
 * A check of Authorization headers against one secret, `Bearer <secret>`. Both sides are
 * hashed first, so the comparison is constant-time whatever the presented length; the
 * secret's hash is taken once here, not on every request.
 */
export function bearerMatcher(secret: string): (header: string | undefined) => boolean {
  const expected = digest(secret);
  return (header) => {
    if (header === undefined) return false;
    const presented = BEARER.exec(header.trim())?.[1]?.trim() ?? "";
    return timingSafeEqual(digest(presented), expected) && presented !== "";
  };
}

/** Whether an Authorization header is `Bearer <secret>` (see `bearerMatcher`). */
export function bearerMatches(header: string | undefined, secret: string): boolean {
  return bearerMatcher(secret)(header);
}
