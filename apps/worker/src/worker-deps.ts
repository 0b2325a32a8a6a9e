import type { Notifier } from "@sparks/alerts";
import type { AppConfig } from "@sparks/config";
import type { Database } from "@sparks/db";
import type { LangfuseReader } from "@sparks/langfuse";
import type { QueueService } from "@sparks/queues";
import type { MeterEventSender, MeterEventStreamSender } from "@sparks/stripe";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { AlertDeliveryOptions } from "./use-cases/deliver-alert.use-case";

/** Tuning knobs of the usage pipeline; every field has a production default. */
export interface PipelineOptions {
  /** Sync chunk length (default 1 h): progress is saved and the read restarts per chunk. */
  chunkMs?: number;
  /**
   * Parallel push jobs per process (default: enough calls in flight to fill STRIPE_MAX_RPS at
   * Stripe's usual latency, see `defaultPushConcurrency`; each group sends one call at a time).
   */
  pushConcurrency?: number;
  /** Items decided per push round: 1:1 (default 50) and aggregated (default 1,000). */
  pushBatch?: number;
  aggregateBatch?: number;
  /** `auto` aggregation starts when the 1:1 backlog exceeds this many seconds at STRIPE_MAX_RPS (default 60). */
  aggregateAfterSeconds?: number;
  /** How long a push job waits for its group lock before handing back to BullMQ (default 30 s). */
  lockWaitMs?: number;
  /**
   * How long a sync job waits for the running sync to finish (default 15 min): a queued sync
   * must outlast a long backfill rather than burn its BullMQ attempts.
   */
  syncLockWaitMs?: number;
  /** In-job retries of one Stripe call on a retryable error before BullMQ's backoff takes over (default 4). */
  inlineRetries?: number;
  /** Base of the in-job exponential backoff (default 200 ms, with full jitter). */
  retryBaseMs?: number;
  /** BullMQ lock duration of push jobs (default 60 s). */
  pushLockDurationMs?: number;
  /** BullMQ lock duration of sync jobs (default 60 s): how soon a crashed sync is picked up again. */
  syncLockDurationMs?: number;
}

/**
 * Push jobs per process by default: the budget (calls/s) × a typical meter-event call time
 * (~150 ms) is how many calls must be in flight to use it, since each group may have only one
 * (Stripe allows one concurrent call per customer + meter). At least 4, at most 128.
 */
export function defaultPushConcurrency(maxRps: number): number {
  return Math.min(128, Math.max(4, Math.ceil(maxRps * 0.15)));
}

/** What the push use-case needs from Stripe. */
export interface StripePorts {
  sender: MeterEventSender;
  /** Present with STRIPE_METER_API=v2: the push sends 1:1 events through the v2 stream, 100 per call. */
  stream?: MeterEventStreamSender;
}

/** Everything the processors need, built once in the composition root (or by a test). */
export interface WorkerDeps {
  config: AppConfig;
  database: Database;
  /** A worker-role connection (`maxRetriesPerRequest: null`). */
  connection: Redis;
  queues: QueueService;
  logger: Logger;
  now?: () => Date;
  /** Absent when Langfuse is not configured: sync jobs then fail with a clear message. */
  langfuse?: LangfuseReader;
  /** Absent when Stripe is not configured: push jobs then fail with a clear message. */
  stripe?: StripePorts;
  pipeline?: PipelineOptions;
  /** Alert channels and limits; absent: a notifier built from `config.alerts` (see alerts.processor). */
  alerts?: { notifier?: Notifier; options?: AlertDeliveryOptions };
}
