/** What one chaos run does. `full` is `pnpm test:chaos`; `smoke` is the CI version. */
export interface ChaosPlan {
  name: "full" | "smoke" | "restarts";
  traces: number;
  customers: number;
  seed: number;
  /** SIGKILLs of a worker process at random points of the run. */
  kills: number;
  /** Worker processes running at once. */
  workers: number;
  /** Only the full run: the machine's services are shared with every other test. */
  restartRedis: boolean;
  restartPostgres: boolean;
  /**
   * The `--redis-wipe` phase after the backfill: a private redis-server wiped under the API and
   * a scheduling worker (never the shared Redis, so the smoke may run it too).
   */
  redisWipe: boolean;
  stripeTimeoutMs: number;
  /** Seconds of API load at `loadRps` requests per second. */
  loadSeconds: number;
  loadRps: number;
  /** The whole run must finish within this (ms), or it fails. */
  deadlineMs: number;
}

export const FULL_PLAN: ChaosPlan = {
  name: "full",
  traces: 50_000,
  customers: 40,
  seed: 2026,
  kills: 5,
  workers: 2,
  restartRedis: true,
  restartPostgres: true,
  redisWipe: true,
  stripeTimeoutMs: 1_500,
  loadSeconds: 60,
  loadRps: 500,
  deadlineMs: 40 * 60_000,
};

export const SMOKE_PLAN: ChaosPlan = {
  name: "smoke",
  traces: 2_000,
  customers: 8,
  seed: 7,
  kills: 2,
  workers: 2,
  restartRedis: false,
  restartPostgres: false,
  redisWipe: true,
  stripeTimeoutMs: 1_000,
  loadSeconds: 5,
  loadRps: 500,
  deadlineMs: 240_000,
};

/**
 * `--restarts`: the full run's service restarts on a small backfill, to check the restart
 * paths in minutes (it restarts the machine's Redis and Postgres too). No API load.
 */
export const RESTARTS_PLAN: ChaosPlan = {
  name: "restarts",
  traces: 6_000,
  customers: 12,
  seed: 99,
  kills: 1,
  workers: 2,
  restartRedis: true,
  restartPostgres: true,
  redisWipe: false,
  stripeTimeoutMs: 1_000,
  loadSeconds: 0,
  loadRps: 0,
  deadlineMs: 10 * 60_000,
};

/**
 * Stripe's fault mix per meter-event call: 5% 500, 3% 429 (half with `Stripe-Should-Retry`),
 * 1% hang past the client timeout. `randomly` picks a kind uniformly among those listed, so the
 * list repeats each kind by its weight (out of 9%).
 */
export const STRIPE_FAULT_RATE = 0.09;
export const STRIPE_FAULT_KINDS = [
  ...Array<"server_error">(10).fill("server_error"),
  ...Array<"rate_limit_should_retry">(3).fill("rate_limit_should_retry"),
  ...Array<"rate_limit">(3).fill("rate_limit"),
  ...Array<"hang">(2).fill("hang"),
];

/** Langfuse: 5% 429 with Retry-After, 2% 500. */
export const LANGFUSE_FAULTS = { rate429: 0.05, rate500: 0.02, retryAfterSeconds: 1 };
