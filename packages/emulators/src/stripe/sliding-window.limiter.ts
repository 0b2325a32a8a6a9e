/**
 * Requests-per-second budget over a sliding one-second window. Arrival times sit in a ring
 * buffer sized to the budget, so each check is O(1): the request is admitted when the
 * oldest of the last `limit` admissions is more than a second old.
 */
export class SlidingWindowLimiter {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;

  constructor(
    private readonly limit: number,
    private readonly windowMs = 1000,
  ) {
    this.ring = new Float64Array(Math.max(1, Number.isFinite(limit) ? limit : 1));
  }

  tryAcquire(nowMs: number): boolean {
    if (!Number.isFinite(this.limit) || this.limit <= 0) return true;
    if (this.count < this.limit) {
      this.ring[(this.head + this.count) % this.limit] = nowMs;
      this.count += 1;
      return true;
    }
    const oldest = this.ring[this.head] as number;
    if (nowMs - oldest < this.windowMs) return false;
    this.ring[this.head] = nowMs;
    this.head = (this.head + 1) % this.limit;
    return true;
  }
}
