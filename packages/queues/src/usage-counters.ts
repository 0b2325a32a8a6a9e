import type { Redis } from "ioredis";

/** Keys outlive the month they count (≤ 31 days) with room for late corrections, then vanish. */
export const USAGE_COUNTER_TTL_SECONDS = 40 * 24 * 3600;

const MONTH_KEY = /^\d{4}-(0[1-9]|1[0-2])$/;

export interface UsageCountersOptions {
  redis: Redis;
  /** Key prefix, the same as the BullMQ prefix (default `sparks`), so tests stay apart. */
  prefix?: string;
  ttlSeconds?: number;
}

export interface MonthTotal {
  /** Whole Sparks used in the month (the exact ledger total, rounded down). */
  sparks: number;
  /** The version the total was written with (see `setMonthTotal`). */
  version: number;
}

/**
 * Writes `used` only when the given version is not older than the stored one, so two pipeline
 * runs finishing out of order never put an older total over a newer one. Returns 1 if written.
 */
const SET_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'used', ARGV[1], 'version', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
`;

function checkArgs(customerId: string, month: string): void {
  if (customerId === "") throw new RangeError("customerId must not be empty");
  if (!MONTH_KEY.test(month)) throw new RangeError(`month must be YYYY-MM, got ${month}`);
}

function wholeSparks(value: bigint | number): number {
  const n = typeof value === "bigint" ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`sparks must be a non-negative safe whole number, got ${String(value)}`);
  }
  return n;
}

/**
 * Per customer and UTC month, how many whole Sparks the ledger holds — what `/quota` answers
 * from in one Redis round trip instead of scanning the ledger. The pipeline owns the numbers:
 * after each ingested page it writes the customer's month total ("latest state wins"), so a
 * lost or replayed write heals with the next one. A new month is a new key: counters reset on
 * the 1st (UTC) without any job.
 */
export class UsageCounters {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlSeconds: number;

  constructor(options: UsageCountersOptions) {
    this.redis = options.redis;
    this.prefix = options.prefix ?? "sparks";
    this.ttlSeconds = options.ttlSeconds ?? USAGE_COUNTER_TTL_SECONDS;
  }

  /** `<prefix>:usage:<customerId>:<YYYY-MM>`, a hash with `used` and `version`. */
  key(customerId: string, month: string): string {
    return `${this.prefix}:usage:${customerId}:${month}`;
  }

  /**
   * Sets the month's total (whole Sparks, the exact total rounded down). Idempotent.
   * `version` orders writes (default: now in ms); pass the time the total was read from the
   * ledger so a slower, older write loses. Returns false when a newer total was already there.
   */
  async setMonthTotal(
    customerId: string,
    month: string,
    sparks: bigint | number,
    version: number = Date.now(),
  ): Promise<boolean> {
    checkArgs(customerId, month);
    const used = wholeSparks(sparks);
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new RangeError(`version must be a non-negative safe integer, got ${version}`);
    }
    const written = await this.redis.eval(
      SET_IF_NEWER,
      1,
      this.key(customerId, month),
      String(used),
      String(version),
      String(this.ttlSeconds),
    );
    return written === 1;
  }

  /** The month's total, or null when nothing was written (no usage yet, or the key expired). */
  async get(customerId: string, month: string): Promise<MonthTotal | null> {
    checkArgs(customerId, month);
    const [used, version] = await this.redis.hmget(this.key(customerId, month), "used", "version");
    if (used === null || used === undefined) return null;
    return { sparks: Number(used), version: Number(version ?? 0) };
  }
}
