import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Each test gets its own BullMQ prefix, so its queues never see another test's jobs.
 * `cleanup()` deletes every key under the prefix.
 */
export async function createTestRedis(): Promise<{
  url: string;
  prefix: string;
  connection: Redis;
  cleanup(): Promise<void>;
}> {
  const prefix = `t${randomBytes(6).toString("hex")}`;
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  return {
    url: TEST_REDIS_URL,
    prefix,
    connection,
    async cleanup() {
      let cursor = "0";
      do {
        const [next, keys] = await connection.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        cursor = next;
        if (keys.length > 0) await connection.unlink(...keys);
      } while (cursor !== "0");
      await connection.quit();
    },
  };
}
