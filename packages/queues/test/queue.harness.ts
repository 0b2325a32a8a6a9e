import { createTestRedis } from "@sparks/testing";
import type { Worker } from "bullmq";
import { afterEach, beforeEach } from "vitest";
import { QueueService } from "../src/index";

export interface QueueHarness {
  /** A fresh Redis prefix per test (cleaned up after it). */
  redis: Awaited<ReturnType<typeof createTestRedis>>;
  queues: QueueService;
  /** Workers a test starts; closed after it. */
  workers: Worker[];
}

/** Per test: a fresh Redis prefix and a QueueService on it; afterwards its workers and queues are closed. */
export function useQueueHarness(): QueueHarness {
  const harness = { workers: [] as Worker[] } as QueueHarness;
  beforeEach(async () => {
    harness.redis = await createTestRedis();
    harness.queues = new QueueService({ connection: harness.redis.connection, prefix: harness.redis.prefix });
  });
  afterEach(async () => {
    await Promise.all(harness.workers.splice(0).map((w) => w.close()));
    await harness.queues.close();
    await harness.redis.cleanup();
  });
  return harness;
}
