import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * A marker key that exists as long as Redis kept its data. Redis restarted without persistence,
 * FLUSHALL, a failover to an empty replica, eviction: the key is gone (or another process set a
 * new one), and whoever compares it with the epoch it saw knows that every job scheduler,
 * counter and job it owned in Redis has to be re-created.
 */
export function redisEpochKey(prefix: string): string {
  return `${prefix}:epoch`;
}

export interface EpochCheck {
  /** The epoch now in Redis (set by this call when the key was missing). */
  epoch: string;
  /** True when the epoch differs from `known`: Redis lost its data since `known` was read. */
  changed: boolean;
  /** True when this call created the key (first start, or Redis came back empty). */
  created: boolean;
}

/**
 * Reads the epoch, creating it when missing (SET NX, so concurrent processes agree on one),
 * and compares it with the epoch the caller saw before. `known` null: first look, never "changed".
 */
export async function checkRedisEpoch(
  redis: Redis,
  prefix: string,
  known: string | null,
): Promise<EpochCheck> {
  const key = redisEpochKey(prefix);
  const candidate = `${new Date().toISOString()}/${randomUUID()}`;
  const set = await redis.set(key, candidate, "NX");
  const epoch = set === "OK" ? candidate : ((await redis.get(key)) ?? candidate);
  return { epoch, changed: known !== null && epoch !== known, created: set === "OK" };
}
