import { DAY_MS } from "./meter-event.ledger";

export interface StoredResponse {
  method: string;
  path: string;
  body: string;
  status: number;
  response: string;
  storedAt: number;
  requestId: string;
}

/**
 * Stored answers per `Idempotency-Key`. Stripe keeps keys at least 24 hours; entries are
 * pruned from the oldest end (a Map keeps insertion order), so cost stays O(1) amortised.
 */
export class IdempotencyCache {
  private readonly entries = new Map<string, StoredResponse>();
  private readonly inFlight = new Set<string>();

  get(key: string): StoredResponse | undefined {
    return this.entries.get(key);
  }

  isInFlight(key: string): boolean {
    return this.inFlight.has(key);
  }

  begin(key: string): void {
    this.inFlight.add(key);
  }

  end(key: string): void {
    this.inFlight.delete(key);
  }

  store(key: string, entry: StoredResponse): void {
    this.entries.set(key, entry);
    for (const [k, v] of this.entries) {
      if (entry.storedAt - v.storedAt < DAY_MS) break;
      this.entries.delete(k);
    }
  }
}
