import type { AppConfig } from "@sparks/config";
import type { Database } from "@sparks/db";
import type { QueueService } from "@sparks/queues";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

/** Everything the processors need, built once in the composition root (or by a test). */
export interface WorkerDeps {
  config: AppConfig;
  database: Database;
  /** A worker-role connection (`maxRetriesPerRequest: null`). */
  connection: Redis;
  queues: QueueService;
  logger: Logger;
  now?: () => Date;
}
