import { randomBytes } from "node:crypto";

// Crockford base32: no I, L, O, U, so ids survive being read aloud or retyped.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * A ULID-like id: 48 bits of milliseconds then 80 random bits, 26 base32 characters.
 * Ids sort by creation time (handy in logs and for index locality) and need no coordination.
 */
export function ulidLike(now: number = Date.now()): string {
  let time = "";
  let rest = Math.floor(now);
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[rest % 32] + time;
    rest = Math.floor(rest / 32);
  }
  const bytes = randomBytes(16);
  let random = "";
  for (let i = 0; i < 16; i++) {
    random += ALPHABET[(bytes[i] ?? 0) % 32];
  }
  return time + random;
}

/** Sparks customer ids are prefixed so they can't be mistaken for Stripe's `cus_...` ids. */
export function newCustomerId(): string {
  return `cus_sparks_${ulidLike().toLowerCase()}`;
}

export function newSyncRunId(): string {
  return `sync_${ulidLike().toLowerCase()}`;
}
