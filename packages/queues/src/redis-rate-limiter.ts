import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * A GCRA token bucket in one Lua script, so every process sharing `key` shares one budget and
 * each acquire is one round trip. State is a single number, the "theoretical arrival time"
 * (TAT, ms on the Redis clock): the bucket is full when TAT ≤ now, and each token pushes TAT
 * one emission interval further. Redis's own clock is used so processes with skewed clocks
 * still agree.
 *
 * ARGV: interval ms (1000 / rate), burst, mode ("reserve" | "try").
 * Returns the ms to wait before the taken token may be used (0 = now), or -1 when `try`
 * found no free token (nothing is taken then).
 */
const GCRA_SCRIPT = `
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local mode = ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local new_tat = tat + interval
local allowed_at = new_tat - burst * interval
local wait = allowed_at - now
if wait > 0 and mode == 'try' then return -1 end
if wait < 0 then wait = 0 end
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now) + 1000)
return math.ceil(wait)
`;
const GCRA_SHA = createHash("sha1").update(GCRA_SCRIPT).digest("hex");

export interface RedisRateLimiterOptions {
  /** The Redis key of the shared bucket: every limiter with this key shares one budget. */
  key: string;
  ratePerSecond: number;
  /** Calls allowed back to back after an idle period (default 1: strictly spaced). */
  burst?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A rate budget shared by all processes through Redis (e.g. `STRIPE_MAX_RPS` over every
 * worker). `acquire()` reserves the next free slot and sleeps until it, so waiters are served
 * in order without polling; `tryAcquire()` takes a token only if one is free now.
 */
export class RedisRateLimiter {
  private readonly intervalMs: number;
  private readonly burst: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisRateLimiterOptions,
  ) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
      throw new RangeError(`ratePerSecond must be a positive number, got ${options.ratePerSecond}`);
    }
    const burst = options.burst ?? 1;
    if (!Number.isInteger(burst) || burst < 1)
      throw new RangeError(`burst must be an integer ≥ 1, got ${burst}`);
    this.intervalMs = 1000 / options.ratePerSecond;
    this.burst = burst;
  }

  /** Waits until a token is ours. A reserved slot is spent even if the caller then gives up. */
  async acquire(): Promise<void> {
    const waitMs = await this.run("reserve");
    if (waitMs > 0) await sleep(waitMs);
  }

  /** true when a token was free and is now taken; false (nothing taken) otherwise. */
  async tryAcquire(): Promise<boolean> {
    return (await this.run("try")) >= 0;
  }

  private async run(mode: "reserve" | "try"): Promise<number> {
    const args = [this.intervalMs.toString(), this.burst.toString(), mode];
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(GCRA_SHA, 1, this.options.key, ...args);
    } catch (e) {
      // The script cache is empty after a Redis restart or on a fresh server: EVAL loads it.
      if (!(e instanceof Error) || !e.message.includes("NOSCRIPT")) throw e;
      reply = await this.redis.eval(GCRA_SCRIPT, 1, this.options.key, ...args);
    }
    if (typeof reply !== "number") throw new Error(`rate limiter script answered ${String(reply)}`);
    return reply;
  }
}
