import { Redis, type RedisOptions } from "ioredis";

export type RedisRole = "worker" | "producer";

/**
 * Workers block on Redis and must never give up a command (BullMQ requires
 * `maxRetriesPerRequest: null`); producers (the API) should fail fast so that a request
 * answers 503 instead of hanging while Redis is away.
 */
export function createRedisConnection(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    role === "worker"
      ? { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, ...extra };
  const redis = new Redis(url, { lazyConnect: false, ...options });
  // ioredis emits 'error' while reconnecting; without a listener Node would crash the process.
  redis.on("error", () => undefined);
  return redis;
}

/** Resolves once the connection answers PING, or rejects after `timeoutMs`. */
export async function pingRedis(redis: Redis, timeoutMs = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
