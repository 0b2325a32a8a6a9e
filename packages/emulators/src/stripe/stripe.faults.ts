import type { FaultKind } from "./stripe.recording";

export interface FaultRule {
  kind: FaultKind;
  /** How many matching requests get the fault (default 1). */
  count?: number;
  /** Only requests on this path (exact) or matching this pattern. */
  path?: string | RegExp;
  method?: string;
  /** For `hang`: how long to hold the request before giving up on it (default 5,000 ms). */
  hangMs?: number;
}

export interface RandomFaults {
  /** Share of matching requests that fail, 0..1. */
  rate: number;
  seed?: number;
  kinds?: FaultKind[];
  path?: string | RegExp;
  method?: string;
  hangMs?: number;
}

export interface ChosenFault {
  kind: FaultKind;
  hangMs: number;
}

/** mulberry32: small, fast and seedable, so a random failure mix can be replayed exactly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function matches(rule: { path?: string | RegExp; method?: string }, method: string, path: string): boolean {
  if (rule.method !== undefined && rule.method.toUpperCase() !== method) return false;
  if (rule.path === undefined) return true;
  return typeof rule.path === "string" ? rule.path === path : rule.path.test(path);
}

/** Failures on demand: the next N matching requests, or a seeded random mix. */
export class StripeFaults {
  private readonly queue: Array<FaultRule & { remaining: number }> = [];
  private random: (RandomFaults & { rng: () => number }) | null = null;

  /** Queues a fault for the next `count` matching requests. */
  inject(rule: FaultRule): void {
    this.queue.push({ ...rule, remaining: rule.count ?? 1 });
  }

  /** Fails a seeded random share of matching requests until `clear()`. */
  randomly(opts: RandomFaults): void {
    this.random = { ...opts, rng: mulberry32(opts.seed ?? 1) };
  }

  clear(): void {
    this.queue.length = 0;
    this.random = null;
  }

  /** Faults still queued (for assertions that a storm was used up). */
  pending(): number {
    return this.queue.reduce((n, r) => n + r.remaining, 0);
  }

  /** The fault for this request, if any; consumes one from the queue. */
  take(method: string, path: string): ChosenFault | null {
    if (this.queue.length === 0 && this.random === null) return null;
    for (let i = 0; i < this.queue.length; i++) {
      const rule = this.queue[i] as FaultRule & { remaining: number };
      if (!matches(rule, method, path)) continue;
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.queue.splice(i, 1);
      return { kind: rule.kind, hangMs: rule.hangMs ?? 5_000 };
    }
    const r = this.random;
    if (r !== null && matches(r, method, path) && r.rng() < r.rate) {
      const kinds = r.kinds ?? ["server_error", "rate_limit_should_retry", "rate_limit"];
      const kind = kinds[Math.floor(r.rng() * kinds.length)] ?? "server_error";
      return { kind, hangMs: r.hangMs ?? 5_000 };
    }
    return null;
  }
}
