/**
 * Delivers converted batches to Langfuse, in order, from a bounded in-memory buffer: a failed
 * delivery (network error, timeout, 408, 429, 5xx) is retried with exponential backoff and
 * jitter (honouring Retry-After) until it succeeds; the relay answers 503 to senders while the
 * buffer is full, so they keep the batch and retry (the Langfuse JS SDKs do). A 4xx other than
 * 408/429 means Langfuse will never take the request (e.g. wrong keys): it is dropped, counted
 * and logged rather than blocking every batch behind it.
 */
export interface Delivery {
  /** Path on the Langfuse base URL, e.g. `/api/public/otel/v1/traces`. */
  path: string;
  body: unknown;
  /** The sender's Authorization header (Basic public:secret), forwarded as is. */
  authorization: string;
  /** Extra headers, e.g. `x-langfuse-ingestion-version: 4`. */
  headers?: Record<string, string>;
}

export interface ForwarderStats {
  queued: number;
  delivered: number;
  retries: number;
  dropped: number;
  lastError: string | null;
}

export interface ForwarderOptions {
  targetUrl: string;
  maxBuffered: number;
  timeoutMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  log?: (level: "warn" | "error", message: string) => void;
  fetch?: typeof fetch;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class OtlpForwarder {
  private readonly queue: Delivery[] = [];
  private running = false;
  private stopped = false;
  private idle: Array<() => void> = [];
  readonly stats: ForwarderStats = { queued: 0, delivered: 0, retries: 0, dropped: 0, lastError: null };

  constructor(private readonly options: ForwarderOptions) {}

  /** Room for `n` more deliveries? */
  hasRoom(n: number): boolean {
    return this.queue.length + n <= this.options.maxBuffered;
  }

  get size(): number {
    return this.queue.length;
  }

  enqueue(deliveries: readonly Delivery[]): void {
    this.queue.push(...deliveries);
    this.stats.queued = this.queue.length;
    if (!this.running && !this.stopped) void this.run();
  }

  /** Resolves when the buffer is empty (or at once when it is). */
  drained(): Promise<void> {
    if (this.queue.length === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Stops after the current attempt; what is still buffered is reported by `size`. */
  stop(): void {
    this.stopped = true;
  }

  private async run(): Promise<void> {
    this.running = true;
    let attempt = 0;
    while (this.queue.length > 0 && !this.stopped) {
      const next = this.queue[0] as Delivery;
      const outcome = await this.deliver(next);
      if (outcome.kind === "retry") {
        attempt++;
        this.stats.retries++;
        this.stats.lastError = outcome.reason;
        const base = this.options.baseDelayMs ?? 500;
        const max = this.options.maxDelayMs ?? 30_000;
        const backoff = Math.min(max, base * 2 ** Math.min(attempt - 1, 16)) * (0.5 + Math.random() / 2);
        this.options.log?.(
          "warn",
          `relay: delivery failed (${outcome.reason}), retry ${attempt} in ${Math.round(backoff)} ms`,
        );
        await sleep(Math.max(backoff, outcome.retryAfterMs ?? 0));
        continue;
      }
      if (outcome.kind === "drop") {
        this.stats.dropped++;
        this.stats.lastError = outcome.reason;
        this.options.log?.("error", `relay: Langfuse refused a batch for good, dropped: ${outcome.reason}`);
      } else {
        this.stats.delivered++;
      }
      attempt = 0;
      this.queue.shift();
      this.stats.queued = this.queue.length;
    }
    this.running = false;
    if (this.queue.length === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private async deliver(
    d: Delivery,
  ): Promise<
    | { kind: "ok" }
    | { kind: "drop"; reason: string }
    | { kind: "retry"; reason: string; retryAfterMs?: number }
  > {
    const doFetch = this.options.fetch ?? fetch;
    try {
      const res = await doFetch(new URL(d.path, this.options.targetUrl), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: d.authorization, ...d.headers },
        body: JSON.stringify(d.body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
      });
      const text = await res.text();
      if (res.ok) {
        // A 207 from the legacy endpoint may still carry per-event errors: those will not improve on retry.
        if (res.status === 207 && text.includes('"errors":[{')) {
          this.options.log?.(
            "warn",
            `relay: Langfuse refused some passed-through events: ${text.slice(0, 300)}`,
          );
        }
        return { kind: "ok" };
      }
      const reason = `HTTP ${res.status} ${text.slice(0, 200)}`;
      if (res.status === 408 || res.status === 429 || res.status >= 500) {
        const retryAfter = Number(res.headers.get("retry-after"));
        return {
          kind: "retry",
          reason,
          ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
        };
      }
      return { kind: "drop", reason };
    } catch (error) {
      return { kind: "retry", reason: (error as Error).message };
    }
  }
}
