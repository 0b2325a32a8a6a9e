/**
 * A bounded in-process cache whose entries each carry their own expiry: a hit never outlives
 * it, and past `maxEntries` the least recently used entry is dropped, so memory stays bounded
 * however many distinct keys callers send. Time is passed in (ms since the epoch) so callers
 * use the same clock as the checks they cache.
 */
export class ExpiringLruCache<K, V> {
  // A Map iterates in insertion order; re-inserting on a hit keeps the oldest-used first.
  private readonly entries = new Map<K, { value: V; expiresAtMs: number }>();

  constructor(private readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError("maxEntries must be at least 1");
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K, nowMs: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (!(nowMs < entry.expiresAtMs)) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` until `expiresAtMs` (exclusive); an already-expired entry is not stored. */
  set(key: K, value: V, expiresAtMs: number, nowMs: number): void {
    this.entries.delete(key);
    if (!(nowMs < expiresAtMs)) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAtMs });
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}
