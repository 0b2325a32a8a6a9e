/**
 * Group commit: many concurrent callers each `add` one row and wait until it is written, but the
 * rows are written together — one statement and one commit for everything that arrived while
 * the previous write was in flight. With N pushes running at once that is about one commit per
 * round instead of N, and a lone caller is written at once (no timer, no added latency).
 */
export class GroupCommitWriter<T> {
  private queue: Array<{ item: T; resolve: () => void; reject: (error: unknown) => void }> = [];
  private draining: Promise<void> | null = null;

  constructor(
    private readonly write: (items: T[]) => Promise<void>,
    private readonly maxBatch = 500,
  ) {}

  /** Resolves once `item` is written (with whatever else was waiting); rejects if that write failed. */
  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.draining) this.draining = this.drain();
    });
  }

  /** Waits until nothing is queued or being written. */
  async flushed(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          await this.write(batch.map((b) => b.item));
          for (const b of batch) b.resolve();
        } catch (error) {
          // Each waiter learns its own row was not written; the next batch still gets its try.
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.draining = null;
    }
  }
}
