/** A position in a (time, id) ordering: the key of both pagination cursors and window bounds. */
export interface SortKey {
  ms: number;
  id: string;
}

export interface Keyed {
  readonly id: string;
  sortMs: number;
  visibleAtMs: number;
}

export interface WindowQuery<T> {
  /** Inclusive lower bound on the sort time. */
  fromMs?: number;
  /** Exclusive upper bound on the sort time. */
  toMs?: number;
  /** Only items strictly older than this key (in newest-first order: strictly after it). */
  before?: SortKey;
  /** Items must be visible at this instant (ingestion delay). */
  nowMs: number;
  /** Extra filter; `undefined` means "every visible item in the window". */
  where?: (item: T) => boolean;
}

function compareKey(aMs: number, aId: string, bMs: number, bId: string): number {
  if (aMs !== bMs) return aMs - bMs;
  if (aId === bId) return 0;
  return aId < bId ? -1 : 1;
}

/**
 * Items kept in ascending (sortMs, id) order so that time windows are found by binary search
 * instead of scanning. Appends are O(1) and mark the array dirty; it is re-sorted on the next
 * read, which is cheap because the array is then mostly sorted (TimSort merges the runs).
 */
export class SortedCollection<T extends Keyed> {
  private items: T[] = [];
  private dirty = false;
  private maxVisibleAtMs = Number.NEGATIVE_INFINITY;

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    const last = this.items[this.items.length - 1];
    if (last && compareKey(item.sortMs, item.id, last.sortMs, last.id) < 0) this.dirty = true;
    this.items.push(item);
    this.noteVisibility(item.visibleAtMs);
  }

  /** Call after changing an item's sortMs in place. */
  markDirty(): void {
    this.dirty = true;
  }

  noteVisibility(visibleAtMs: number): void {
    if (visibleAtMs > this.maxVisibleAtMs) this.maxVisibleAtMs = visibleAtMs;
  }

  all(): readonly T[] {
    this.ensureSorted();
    return this.items;
  }

  /** Newest-first items of the window after `before`, up to `max` of them. */
  /** The item at `i`, which the caller's bounds guarantee exists. */
  private at(i: number): T {
    const item = this.items[i];
    if (item === undefined) throw new RangeError(`sorted collection: no item at ${i}`);
    return item;
  }

  pageDesc(query: WindowQuery<T>, max: number): T[] {
    const [lo, hi] = this.bounds(query);
    const out: T[] = [];
    const allVisible = this.maxVisibleAtMs <= query.nowMs;
    for (let i = hi - 1; i >= lo && out.length < max; i--) {
      const item = this.at(i);
      if (!allVisible && item.visibleAtMs > query.nowMs) continue;
      if (query.where && !query.where(item)) continue;
      out.push(item);
    }
    return out;
  }

  /** Newest-first offset page plus the total count of matching items (legacy page/limit APIs). */
  sliceDesc(query: WindowQuery<T>, offset: number, limit: number): { items: T[]; total: number } {
    const [lo, hi] = this.bounds(query);
    if (!query.where && this.maxVisibleAtMs <= query.nowMs) {
      // Fast path: every item of the window matches, so the page is plain index arithmetic.
      const items: T[] = [];
      for (let i = hi - 1 - offset; i >= lo && items.length < limit; i--) items.push(this.at(i));
      return { items, total: hi - lo };
    }
    const items: T[] = [];
    let total = 0;
    for (let i = hi - 1; i >= lo; i--) {
      const item = this.at(i);
      if (item.visibleAtMs > query.nowMs) continue;
      if (query.where && !query.where(item)) continue;
      if (total >= offset && items.length < limit) items.push(item);
      total++;
    }
    return { items, total };
  }

  private bounds(query: WindowQuery<T>): [number, number] {
    this.ensureSorted();
    const lo = query.fromMs === undefined ? 0 : this.lowerBound(query.fromMs, "");
    let hi = query.toMs === undefined ? this.items.length : this.lowerBound(query.toMs, "");
    if (query.before) hi = Math.min(hi, this.lowerBound(query.before.ms, query.before.id));
    return [lo, Math.max(lo, hi)];
  }

  /** First index whose key is >= (ms, id). The empty id sorts before every real id. */
  private lowerBound(ms: number, id: string): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const item = this.at(mid);
      if (compareKey(item.sortMs, item.id, ms, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private ensureSorted(): void {
    if (!this.dirty) return;
    this.items.sort((a, b) => compareKey(a.sortMs, a.id, b.sortMs, b.id));
    this.dirty = false;
  }
}
