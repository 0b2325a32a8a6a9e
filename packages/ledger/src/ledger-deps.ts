import type { AppConfig } from "@sparks/config";
import type { Database } from "@sparks/db";
import type { QueueService } from "@sparks/queues";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * What the API and the CLI hand the ledger entry: enqueue and read only, so no Langfuse reader
 * and no Stripe sender (those stay in the worker processes).
 */
export interface LedgerDeps {
  config: AppConfig;
  database: Database;
  queues: QueueService;
  /** Any connection: the ledger side never runs a BullMQ worker on it. */
  redis: Redis;
  logger?: Logger;
  now?: () => Date;
}
