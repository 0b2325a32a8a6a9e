import type { AppConfig } from "@sparks/config";
import type { Database } from "@sparks/db";
import type { ApiLoggerOptions } from "@sparks/observability";
import type { QueueService } from "@sparks/queues";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { DemoAccess } from "./home-page/demo-access";
import type { BillingStripe } from "./use-cases/billing-stripe";

/**
 * What the API needs from the outside, built by the composition root (`startApi`, the CLI,
 * tests). Later features add their own optional dependencies here.
 */
export interface ApiDeps {
  config: AppConfig;
  database: Database;
  /** Producer connection (fails fast): `createRedisConnection(url, "producer")`. */
  redis: Redis;
  queues: QueueService;
  /**
   * pino options (a redacting logger is built from them), a ready pino instance (expected to
   * come from `createLogger`, which redacts), or `false` for no logs.
   */
  logger?: ApiLoggerOptions | Logger | false;
  /** The clock; tests pin it. */
  now?: () => Date;
  /**
   * The Stripe services signup, tier changes and rates call while a request waits; absent:
   * built once from config by `buildApp` (null without STRIPE_SECRET_KEY).
   */
  stripe?: BillingStripe | null;
  /** How long a request waits for a worker's job result (default 55 s), then 503 `worker_timeout`. */
  workerWaitMs?: number;
  /** What the home page (`GET /`) shows beyond the config: the parts running, demo access. */
  home?: HomePageDeps;
}

export interface HomePageDeps {
  /** What runs in this process, e.g. `["API", "workers", "schedulers"]` (default `["API"]`). */
  parts?: readonly string[];
  /** Demo mode only: demo customers and a token signer for their usage-page links. */
  demo?: DemoAccess;
}

/** Deps as route plugins receive them: defaults filled in. */
export type RouteDeps = ApiDeps & { now: () => Date; stripe: BillingStripe | null; workerWaitMs: number };

/** Options every route plugin under `src/routes/` is registered with. */
export interface RoutePluginOptions {
  deps: RouteDeps;
}
