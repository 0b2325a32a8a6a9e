import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

/**
 * The Redis side of real-time quotas (SPEC §4 `/quota`, `/quota/reserve`, `/quota/settle`):
 *
 * - billed: `<p>:usage:<customer>:<month>` (see `UsageCounters`), the ledger's month total;
 * - provisional: `<p>:quota:prov:<month>`, a hash customer → whole Sparks read from Langfuse's
 *   open window (never billed), replaced as a whole by every refresh;
 * - held: `<p>:quota:holds:<customer>` (zset reservation → expiry ms) and
 *   `<p>:quota:hold-sparks:<customer>` (hash reservation → Sparks); a hold past its expiry is
 *   dropped by the next script that looks at the customer;
 * - `<p>:quota:rsv:<id>` → customer, so settle finds the hold; `<p>:quota:settled:<id>` remembers
 *   a settle for an hour, so settling twice is told apart from an unknown id;
 * - `<p>:quota:counters-ready`: set once the counters were rebuilt from the Postgres ledger. An
 *   empty Redis (restart without persistence, FLUSHALL, failover to an empty replica) loses it
 *   with everything else, so its absence means "the counters may read zero: do not trust them".
 */
export interface QuotaStoreOptions {
  redis: Redis;
  /** The BullMQ prefix (default `sparks`), so tests stay apart. */
  prefix?: string;
}

export interface QuotaSnapshot {
  /** False when the counters-ready marker is gone: the numbers below may be zeros of a wipe. */
  trusted: boolean;
  billed: number;
  provisional: number;
  held: number;
}

export type ReserveOutcome =
  | { status: "allowed"; reservationId: string; expiresAt: Date; used: number; held: number }
  | { status: "denied"; used: number; held: number }
  | { status: "untrusted" };

export type SettleOutcome =
  | { status: "settled"; customerId: string; sparks: number }
  | { status: "already_settled" }
  | { status: "unknown" };

/** Drops expired holds of one customer, then returns the Sparks still held. Shared prelude. */
const PRUNE_AND_SUM = `
local function held_of(zkey, hkey, now)
  local expired = redis.call('ZRANGEBYSCORE', zkey, '-inf', now)
  if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', zkey, '-inf', now)
    redis.call('HDEL', hkey, unpack(expired))
  end
  local total = 0
  local values = redis.call('HVALS', hkey)
  for i = 1, #values do total = total + tonumber(values[i]) end
  return total
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * KEYS: marker, billed hash, provisional hash, holds zset, hold-sparks hash, reservation key.
 * ARGV: customer, sparks, limit (-1 = unlimited), ttl ms, reservation id, "1" to hold even
 * without the marker (a tier that fails open still records its holds while counters rebuild).
 * One script, so the check and the hold are one step: N concurrent reservations (from any
 * number of API processes) can never together exceed limit - used. Redis' clock (TIME) decides
 * expiry, so processes with skewed clocks agree.
 */
const RESERVE = `${PRUNE_AND_SUM}
if ARGV[6] ~= '1' and redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0, 0, 0} end
local now = now_ms()
local billed = tonumber(redis.call('HGET', KEYS[2], 'used') or '0')
local provisional = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
local held = held_of(KEYS[4], KEYS[5], now)
local used = billed + provisional
local sparks = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
if limit >= 0 and used + held + sparks > limit then return {0, used, held, 0} end
local expires = now + tonumber(ARGV[4])
redis.call('ZADD', KEYS[4], expires, ARGV[5])
redis.call('HSET', KEYS[5], ARGV[5], ARGV[2])
redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[4]) + 60000)
redis.call('PEXPIRE', KEYS[5], tonumber(ARGV[4]) + 60000)
redis.call('SET', KEYS[6], ARGV[1], 'PX', tonumber(ARGV[4]))
return {1, used, held + sparks, expires}
`;

/**
 * KEYS: reservation key, settled key; ARGV: key prefix, reservation id, Sparks actually used
 * (-1 = not said), bridge ms. With the real usage given, the hold becomes that amount for
 * `bridge` ms — until the provisional refresh has read it from Langfuse — so usage between a
 * settle and the next refresh is never counted as zero (it may briefly count twice: the safe side).
 */
const SETTLE = `
local customer = redis.call('GET', KEYS[1])
if not customer then
  if redis.call('EXISTS', KEYS[2]) == 1 then return {-1, '', '0'} end
  return {0, '', '0'}
end
local zkey = ARGV[1] .. 'holds:' .. customer
local hkey = ARGV[1] .. 'hold-sparks:' .. customer
local sparks = redis.call('HGET', hkey, ARGV[2]) or '0'
local used = tonumber(ARGV[3])
if used > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', zkey, now + tonumber(ARGV[4]), ARGV[2])
  redis.call('HSET', hkey, ARGV[2], ARGV[3])
  redis.call('PEXPIRE', zkey, tonumber(ARGV[4]) + 60000)
  redis.call('PEXPIRE', hkey, tonumber(ARGV[4]) + 60000)
else
  redis.call('ZREM', zkey, ARGV[2])
  redis.call('HDEL', hkey, ARGV[2])
end
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[2], customer, 'EX', 3600)
return {1, customer, sparks}
`;

/** KEYS: marker, billed hash, provisional hash, holds zset, hold-sparks hash. ARGV: customer. */
const SNAPSHOT = `${PRUNE_AND_SUM}
local trusted = redis.call('EXISTS', KEYS[1])
local billed = tonumber(redis.call('HGET', KEYS[2], 'used') or '0')
local provisional = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
local held = held_of(KEYS[4], KEYS[5], now_ms())
return {trusted, billed, provisional, held}
`;

/**
 * KEYS: marker, provisional hash, then (billed hash, holds zset, hold-sparks hash) per customer.
 * ARGV: the customers. One command for every `/quota` request of an event-loop turn.
 */
const SNAPSHOT_MANY = `${PRUNE_AND_SUM}
local trusted = redis.call('EXISTS', KEYS[1])
local now = now_ms()
local out = {trusted}
for i = 1, #ARGV do
  local base = 2 + (i - 1) * 3
  local billed = tonumber(redis.call('HGET', KEYS[base + 1], 'used') or '0')
  local provisional = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')
  local held = held_of(KEYS[base + 2], KEYS[base + 3], now)
  out[#out + 1] = billed
  out[#out + 1] = provisional
  out[#out + 1] = held
end
return out
`;

/**
 * KEYS: provisional hash, a scratch key. ARGV: ttl seconds, then customer/Sparks pairs.
 * Replaces the month's provisional figures as a whole: customers whose usage was billed (its
 * window closed) drop out in the same step their billed counter took it over.
 */
const REPLACE_PROVISIONAL = `
redis.call('DEL', KEYS[2])
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
if #ARGV > 1 then
  redis.call('RENAME', KEYS[2], KEYS[1])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
else
  redis.call('DEL', KEYS[1])
end
return 1
`;

const MONTH_KEY = /^\d{4}-(0[1-9]|1[0-2])$/;

function checkMonth(month: string): void {
  if (!MONTH_KEY.test(month)) throw new RangeError(`month must be YYYY-MM, got ${month}`);
}

export class QuotaStore {
  private readonly redis: Redis;
  readonly prefix: string;

  constructor(options: QuotaStoreOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? "sparks";
  }

  markerKey(): string {
    return `${this.prefix}:quota:counters-ready`;
  }
  billedKey(customerId: string, month: string): string {
    return `${this.prefix}:usage:${customerId}:${month}`;
  }
  provisionalKey(month: string): string {
    return `${this.prefix}:quota:prov:${month}`;
  }
  private holdKeys(customerId: string): [string, string] {
    return [`${this.prefix}:quota:holds:${customerId}`, `${this.prefix}:quota:hold-sparks:${customerId}`];
  }
  private reservationKey(id: string): string {
    return `${this.prefix}:quota:rsv:${id}`;
  }
  private settledKey(id: string): string {
    return `${this.prefix}:quota:settled:${id}`;
  }

  /** Billed + provisional + held for one customer and month, and whether to trust them. */
  async snapshot(customerId: string, month: string): Promise<QuotaSnapshot> {
    checkMonth(month);
    const reply = (await this.redis.eval(
      SNAPSHOT,
      5,
      this.markerKey(),
      this.billedKey(customerId, month),
      this.provisionalKey(month),
      ...this.holdKeys(customerId),
      customerId,
    )) as number[];
    return {
      trusted: Number(reply[0]) === 1,
      billed: Number(reply[1]),
      provisional: Number(reply[2]),
      held: Number(reply[3]),
    };
  }

  /** `snapshot` for many customers of one month, in one command. */
  async snapshotMany(customerIds: readonly string[], month: string): Promise<QuotaSnapshot[]> {
    checkMonth(month);
    const keys = [this.markerKey(), this.provisionalKey(month)];
    for (const id of customerIds) keys.push(this.billedKey(id, month), ...this.holdKeys(id));
    const reply = (await this.redis.eval(SNAPSHOT_MANY, keys.length, ...keys, ...customerIds)) as number[];
    if (!Array.isArray(reply) || reply.length !== 1 + customerIds.length * 3) {
      throw new Error("the quota snapshot script answered an unexpected reply");
    }
    const trusted = Number(reply[0]) === 1;
    return customerIds.map((_, i) => ({
      trusted,
      billed: Number(reply[1 + i * 3]),
      provisional: Number(reply[2 + i * 3]),
      held: Number(reply[3 + i * 3]),
    }));
  }

  /** Atomically holds `sparks` when billed + provisional + held + sparks ≤ limit (null = unlimited). */
  async reserve(input: {
    customerId: string;
    month: string;
    sparks: number;
    limit: number | null;
    ttlMs: number;
    /** Hold even when the counters are untrusted (the caller applies a fail-open policy). */
    ignoreMarker?: boolean;
  }): Promise<ReserveOutcome> {
    checkMonth(input.month);
    const id = `rsv_${randomBytes(12).toString("hex")}`;
    const reply = (await this.redis.eval(
      RESERVE,
      6,
      this.markerKey(),
      this.billedKey(input.customerId, input.month),
      this.provisionalKey(input.month),
      ...this.holdKeys(input.customerId),
      this.reservationKey(id),
      input.customerId,
      String(input.sparks),
      String(input.limit ?? -1),
      String(input.ttlMs),
      id,
      input.ignoreMarker ? "1" : "0",
    )) as number[];
    const status = Number(reply[0]);
    if (status === -1) return { status: "untrusted" };
    const used = Number(reply[1]);
    const held = Number(reply[2]);
    if (status === 0) return { status: "denied", used, held };
    return { status: "allowed", reservationId: id, expiresAt: new Date(Number(reply[3])), used, held };
  }

  /**
   * Releases a hold. An id never issued or expired (`unknown`) is told apart from one already
   * settled. With `usedSparks`, that much stays held for `bridgeMs` (see SETTLE).
   */
  async settle(
    reservationId: string,
    options: { usedSparks?: number; bridgeMs?: number } = {},
  ): Promise<SettleOutcome> {
    const reply = (await this.redis.eval(
      SETTLE,
      2,
      this.reservationKey(reservationId),
      this.settledKey(reservationId),
      `${this.prefix}:quota:`,
      reservationId,
      String(options.usedSparks ?? -1),
      String(options.bridgeMs ?? 30_000),
    )) as [number, string, string];
    const status = Number(reply[0]);
    if (status === -1) return { status: "already_settled" };
    if (status === 0) return { status: "unknown" };
    return { status: "settled", customerId: String(reply[1]), sparks: Number(reply[2]) };
  }

  /** The customer a live reservation belongs to (null: unknown, expired or settled). */
  async reservationCustomer(reservationId: string): Promise<string | null> {
    return await this.redis.get(this.reservationKey(reservationId));
  }

  /** Replaces the month's provisional figures (customer → whole Sparks) in one step. */
  async replaceProvisional(
    month: string,
    totals: ReadonlyMap<string, number>,
    ttlSeconds = 3 * 3600,
  ): Promise<void> {
    checkMonth(month);
    const args: string[] = [String(ttlSeconds)];
    for (const [customer, sparks] of totals) {
      if (sparks > 0) args.push(customer, String(Math.floor(sparks)));
    }
    await this.redis.eval(
      REPLACE_PROVISIONAL,
      2,
      this.provisionalKey(month),
      `${this.provisionalKey(month)}:next`,
      ...args,
    );
  }

  /** The month's provisional figures (customer → whole Sparks). */
  async provisional(month: string): Promise<Map<string, number>> {
    checkMonth(month);
    const all = await this.redis.hgetall(this.provisionalKey(month));
    return new Map(Object.entries(all).map(([k, v]) => [k, Number(v)]));
  }

  async isTrusted(): Promise<boolean> {
    return (await this.redis.exists(this.markerKey())) === 1;
  }

  /** Marks the counters as rebuilt from the ledger (written after the rebuild, never before). */
  async markTrusted(at: Date = new Date()): Promise<void> {
    await this.redis.set(this.markerKey(), at.toISOString());
  }

  /**
   * A short Redis lock so that one process rebuilds at a time (NX + expiry: a crashed rebuilder
   * never blocks the next one for long). Returns a release function, or null when held elsewhere.
   */
  async tryRebuildLock(ttlMs = 30_000): Promise<(() => Promise<void>) | null> {
    const key = `${this.prefix}:quota:rebuild-lock`;
    const token = randomBytes(8).toString("hex");
    const ok = await this.redis.set(key, token, "PX", ttlMs, "NX");
    if (ok !== "OK") return null;
    return async () => {
      await this.redis.eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
        1,
        key,
        token,
      );
    };
  }
}
