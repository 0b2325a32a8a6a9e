import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** The window of SPARKS_AUTH_FAILURE_LIMIT. */
export const AUTH_FAILURE_WINDOW_MS = 15 * 60 * 1000;

export interface AuthFailureVerdict {
  blocked: boolean;
  /** Seconds until the oldest counted failure leaves the window (for Retry-After). */
  retryAfterSeconds: number;
}

/**
 * The credential a failure is counted against, besides the client IP: the Basic-auth user name
 * (a password guessed from many addresses is still one account under attack) or a hash of any
 * other credential (never the secret itself, which would put it into Redis).
 */
export function credentialKey(authorization: string): string {
  const basic = /^Basic\s+(\S+)\s*$/i.exec(authorization);
  if (basic?.[1]) {
    const decoded = Buffer.from(basic[1], "base64").toString("utf8");
    const user = decoded.includes(":") ? decoded.slice(0, decoded.indexOf(":")) : decoded;
    return `basic:${createHash("sha256").update(user).digest("hex").slice(0, 32)}`;
  }
  return `other:${createHash("sha256").update(authorization).digest("hex").slice(0, 32)}`;
}

/**
 * Counts failed authentications in Redis (shared by every API process) per client IP and per
 * credential, in a fixed window. A client over the limit gets 429 on every request that carries
 * credentials until the window ends; requests without credentials (health, webhook) are the
 * general limiter's business.
 */
export class AuthFailureLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly limit: number,
    private readonly windowMs = AUTH_FAILURE_WINDOW_MS,
  ) {}

  private keys(ip: string, authorization: string): [string, string] {
    return [
      `${this.prefix}:authfail:ip:${ip}`,
      `${this.prefix}:authfail:cred:${credentialKey(authorization)}`,
    ];
  }

  async check(ip: string, authorization: string): Promise<AuthFailureVerdict> {
    const keys = this.keys(ip, authorization);
    const counts = await this.redis.mget(...keys);
    const over = keys.filter((_, i) => Number(counts[i] ?? 0) >= this.limit);
    if (over.length === 0) return { blocked: false, retryAfterSeconds: 0 };
    const ttls = await Promise.all(over.map((k) => this.redis.pttl(k)));
    const ms = Math.max(...ttls.map((t) => (t > 0 ? t : this.windowMs)));
    return { blocked: true, retryAfterSeconds: Math.max(1, Math.ceil(ms / 1000)) };
  }

  async recordFailure(ip: string, authorization: string): Promise<void> {
    const multi = this.redis.multi();
    for (const key of this.keys(ip, authorization)) {
      multi.incr(key);
      // NX: the window starts at the first failure and is not pushed back by later ones.
      multi.pexpire(key, this.windowMs, "NX");
    }
    await multi.exec();
  }
}
