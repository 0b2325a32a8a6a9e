import type { QuotaSnapshot, QuotaStore } from "@sparks/queues";

interface Pending {
  customerId: string;
  resolve(snapshot: QuotaSnapshot): void;
  reject(error: unknown): void;
}

/**
 * Reads the quota snapshot (billed + provisional + held, and whether the counters are trusted)
 * for every `/quota` request of one event-loop turn with a single Redis command per month:
 * under load many requests arrive in the same turn, and each socket write is the costliest
 * part of the request on a small machine. Each answer is still read after its request arrived.
 */
export class BatchedQuotaReader {
  private pending = new Map<string, Pending[]>();

  constructor(private readonly store: QuotaStore) {}

  get(customerId: string, month: string): Promise<QuotaSnapshot> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) setImmediate(() => this.flush());
      const list = this.pending.get(month);
      const entry = { customerId, resolve, reject };
      if (list) list.push(entry);
      else this.pending.set(month, [entry]);
    });
  }

  private flush(): void {
    const batches = this.pending;
    this.pending = new Map();
    for (const [month, batch] of batches) {
      this.store
        .snapshotMany(
          batch.map((p) => p.customerId),
          month,
        )
        .then(
          (snapshots) => {
            batch.forEach((p, i) => {
              const snapshot = snapshots[i];
              if (snapshot) p.resolve(snapshot);
              else p.reject(new Error("missing quota snapshot"));
            });
          },
          (error: unknown) => {
            for (const p of batch) p.reject(error);
          },
        );
    }
  }
}
