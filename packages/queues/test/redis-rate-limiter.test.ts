import { createTestRedis } from "@sparks/testing";
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RedisRateLimiter } from "../src/index";

let redis: Awaited<ReturnType<typeof createTestRedis>>;
const extra: Redis[] = [];

beforeEach(async () => {
  redis = await createTestRedis();
});

afterEach(async () => {
  await Promise.all(extra.splice(0).map((r) => r.quit()));
  await redis.cleanup();
});

/** The most calls seen in any window of `windowMs` (sliding over the sorted call times). */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

async function acquireAll(limiter: RedisRateLimiter, n: number, out: number[]): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async () => {
      await limiter.acquire();
      out.push(performance.now());
    }),
  );
}

describe("RedisRateLimiter", () => {
  it("lets a burst through at once, then spaces calls at the rate", async () => {
    const limiter = new RedisRateLimiter(redis.connection, {
      key: `${redis.prefix}:rl`,
      ratePerSecond: 20,
      burst: 5,
    });
    const started = performance.now();
    const times: number[] = [];
    await acquireAll(limiter, 25, times);
    expect(performance.now() - started).toBeLessThan(2_500);
    // Measured from the first grant, so connection set-up and script loading do not count.
    const first = Math.min(...times);
    // 5 free, then 20 more at 20/s: ≈ 1 s. Less would mean the budget was overrun.
    expect(Math.max(...times) - first).toBeGreaterThanOrEqual(950);
    expect(times.filter((t) => t - first < 30).length).toBe(5);
    // Any 1 s window: at most burst + rate (the bucket refills while it is being drained).
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(25);
    // Any 500 ms window after the burst: at most 10 at 20/s (+1 for timer jitter).
    expect(
      maxInWindow(
        times.filter((t) => t - first > 30),
        500,
      ),
    ).toBeLessThanOrEqual(11);
  });

  it("two limiters on different connections share one budget", async () => {
    const key = `${redis.prefix}:shared`;
    const other = new Redis(redis.url, { maxRetriesPerRequest: null });
    extra.push(other);
    const a = new RedisRateLimiter(redis.connection, { key, ratePerSecond: 20 });
    const b = new RedisRateLimiter(other, { key, ratePerSecond: 20 });
    const times: number[] = [];
    await Promise.all([acquireAll(a, 15, times), acquireAll(b, 15, times)]);
    const elapsed = Math.max(...times) - Math.min(...times);
    // 30 calls at 20/s with burst 1: (30 − 1) / 20 s. Two separate budgets would take half that.
    expect(elapsed).toBeGreaterThanOrEqual(1_400);
    expect(maxInWindow(times, 500)).toBeLessThanOrEqual(11);
  });

  it("tryAcquire takes only a free token and never waits", async () => {
    const limiter = new RedisRateLimiter(redis.connection, {
      key: `${redis.prefix}:try`,
      ratePerSecond: 4,
      burst: 2,
    });
    expect(await limiter.tryAcquire()).toBe(true);
    expect(await limiter.tryAcquire()).toBe(true);
    const t0 = performance.now();
    expect(await limiter.tryAcquire()).toBe(false);
    expect(performance.now() - t0).toBeLessThan(50);
    // A refused try takes nothing: after one interval exactly one token is back.
    await new Promise((r) => setTimeout(r, 260));
    expect(await limiter.tryAcquire()).toBe(true);
    expect(await limiter.tryAcquire()).toBe(false);
    // Another key has its own budget.
    const other = new RedisRateLimiter(redis.connection, { key: `${redis.prefix}:try2`, ratePerSecond: 10 });
    expect(await other.tryAcquire()).toBe(true);
  });

  it("reloads its script after Redis lost the script cache", async () => {
    const limiter = new RedisRateLimiter(redis.connection, {
      key: `${redis.prefix}:flush`,
      ratePerSecond: 0.5,
      burst: 3,
    });
    expect(await limiter.tryAcquire()).toBe(true);
    await redis.connection.script("FLUSH");
    expect(await limiter.tryAcquire()).toBe(true);
    expect(await limiter.tryAcquire()).toBe(true);
    expect(await limiter.tryAcquire()).toBe(false);
  });

  it("refuses a nonsensical configuration", () => {
    expect(() => new RedisRateLimiter(redis.connection, { key: "k", ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => new RedisRateLimiter(redis.connection, { key: "k", ratePerSecond: 5, burst: 0 })).toThrow(
      RangeError,
    );
  });
});
