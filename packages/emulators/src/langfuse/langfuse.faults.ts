import { SeededRandom } from "./seeded-random";

export interface InjectedFault {
  status: 429 | 500 | 502 | 503;
  /** Seconds sent in `Retry-After` (429 and 503 only). */
  retryAfterSeconds?: number;
  /** Route key (e.g. `GET /api/public/v2/observations`); default: any route. */
  route?: string;
}

export interface RandomFailureOptions {
  rate429?: number;
  rate500?: number;
  seed?: number;
  retryAfterSeconds?: number;
}

export interface FaultDecision {
  status: number;
  retryAfterSeconds?: number;
  message: string;
  headers: Record<string, string>;
}

const MINUTE_MS = 60_000;

/**
 * Failures on demand. Precedence per request: the per-minute limit, then queued one-shot faults,
 * then random failures. All timing uses the emulator's injectable clock.
 */
export class LangfuseFaults {
  private queue: Array<InjectedFault & { remaining: number }> = [];
  private perMinute: number | null = null;
  private windowStartMs = 0;
  private windowCount = 0;
  private random: { options: RandomFailureOptions; rng: SeededRandom } | null = null;

  constructor(private readonly now: () => Date) {}

  /** The next `count` requests (of `fault.route`, if given) fail with `fault.status`. */
  failNext(count: number, fault: InjectedFault): void {
    this.queue.push({ ...fault, remaining: count });
  }

  next429(count = 1, retryAfterSeconds = 1, route?: string): void {
    this.failNext(count, { status: 429, retryAfterSeconds, ...(route ? { route } : {}) });
  }

  next500(count = 1, route?: string): void {
    this.failNext(count, { status: 500, ...(route ? { route } : {}) });
  }

  /** Langfuse Cloud's per-minute public API budget (30 hobby, 1,000 core); `null` turns it off. */
  setRequestsPerMinute(limit: number | null): void {
    this.perMinute = limit;
    this.windowCount = 0;
    this.windowStartMs = this.now().getTime();
  }

  setRandomFailures(options: RandomFailureOptions | null): void {
    this.random = options ? { options, rng: new SeededRandom(options.seed ?? 1) } : null;
  }

  reset(): void {
    this.queue = [];
    this.perMinute = null;
    this.random = null;
  }

  /** Decides the fate of one authenticated request. */
  decide(route: string): FaultDecision | null {
    return this.rateLimit() ?? this.queued(route) ?? this.randomFailure();
  }

  private rateLimit(): FaultDecision | null {
    if (this.perMinute === null) return null;
    const nowMs = this.now().getTime();
    if (nowMs - this.windowStartMs >= MINUTE_MS || nowMs < this.windowStartMs) {
      this.windowStartMs = nowMs;
      this.windowCount = 0;
    }
    const headers = { "x-ratelimit-limit": String(this.perMinute) };
    if (this.windowCount < this.perMinute) {
      this.windowCount++;
      return null;
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((this.windowStartMs + MINUTE_MS - nowMs) / 1000));
    return {
      status: 429,
      retryAfterSeconds,
      message: "Rate limit exceeded",
      headers: { ...headers, "x-ratelimit-remaining": "0" },
    };
  }

  private queued(route: string): FaultDecision | null {
    const index = this.queue.findIndex((f) => f.route === undefined || f.route === route);
    const fault = this.queue[index];
    if (!fault) return null;
    fault.remaining--;
    if (fault.remaining <= 0) this.queue.splice(index, 1);
    return this.toDecision(fault.status, fault.retryAfterSeconds);
  }

  private randomFailure(): FaultDecision | null {
    if (!this.random) return null;
    const { options, rng } = this.random;
    const roll = rng.next();
    const rate429 = options.rate429 ?? 0;
    if (roll < rate429) return this.toDecision(429, options.retryAfterSeconds ?? 1);
    if (roll < rate429 + (options.rate500 ?? 0)) return this.toDecision(500);
    return null;
  }

  private toDecision(status: number, retryAfterSeconds?: number): FaultDecision {
    if (status === 429 || status === 503) {
      const seconds = retryAfterSeconds ?? 1;
      return {
        status,
        retryAfterSeconds: seconds,
        message: status === 429 ? "Rate limit exceeded" : "Service Unavailable",
        headers: {},
      };
    }
    return { status, message: "Internal Server Error", headers: {} };
  }
}
