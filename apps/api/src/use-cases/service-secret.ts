import { createHash, timingSafeEqual } from "node:crypto";

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/**
 * Whether an Authorization header is `Bearer <secret>`. Both sides are hashed first, so the
 * comparison is constant-time whatever the presented length.
 */
export function bearerMatches(header: string | undefined, secret: string): boolean {
  if (header === undefined) return false;
  const match = /^Bearer (.+)$/.exec(header.trim());
  const presented = match?.[1]?.trim() ?? "";
  return timingSafeEqual(digest(presented), digest(secret)) && presented !== "";
}
