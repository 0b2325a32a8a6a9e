import { createRedisConnection, QueueService } from "@sparks/queues";
import { createTestRedis, TEST_REDIS_URL } from "@sparks/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AlertInput, enqueueAlert, quotaAlert } from "../src";

describe("enqueueAlert", () => {
  let testRedis: Awaited<ReturnType<typeof createTestRedis>>;
  let queues: QueueService;
  const connection = createRedisConnection(TEST_REDIS_URL, "producer");
  beforeAll(async () => {
    testRedis = await createTestRedis();
    queues = new QueueService({ connection, prefix: testRedis.prefix });
  });
  afterAll(async () => {
    await queues.close();
    connection.disconnect();
    await testRedis.cleanup();
  });

  it("puts a validated alert job on the alerts queue", async () => {
    const result = await enqueueAlert(
      queues,
      quotaAlert({
        customerId: "cus_1",
        threshold: 80,
        month: "2026-11",
        usedSparks: 8000,
        limitSparks: 10000,
      }),
    );
    expect(result.queued).toBe(true);
    const jobs = await queues.queue("alerts").getJobs(["waiting"]);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.data).toMatchObject({
      kind: "quota_80",
      dedupeKey: "quota:80:cus_1:2026-11",
      customerId: "cus_1",
    });
  });

  it("throws on an unknown kind (a programming error)", async () => {
    const bad = { kind: "nope", dedupeKey: "k", title: "t", text: "" } as unknown as AlertInput;
    await expect(enqueueAlert(queues, bad)).rejects.toThrow(/unknown alert kind/);
  });

  it("never throws when Redis is down: the producer carries on", async () => {
    const dead = createRedisConnection("redis://127.0.0.1:1", "producer");
    const deadQueues = new QueueService({ connection: dead, prefix: testRedis.prefix });
    // BullMQ prints each reconnect error when nobody listens; the test only cares about the result.
    deadQueues.queue("alerts").on("error", () => undefined);
    const warnings: unknown[] = [];
    const result = await enqueueAlert(
      deadQueues,
      {
        kind: "sync_failures",
        dedupeKey: "sync-failures:run_1",
        title: "Sync failing",
        text: "3 runs failed",
      },
      { logger: { warn: (obj: unknown) => warnings.push(obj) }, timeoutMs: 300 },
    );
    expect(result.queued).toBe(false);
    expect(warnings).toHaveLength(1);
    dead.disconnect();
    await deadQueues.close().catch(() => undefined);
  });
});
