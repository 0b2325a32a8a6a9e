import type { Job, Worker } from "bullmq";
import { describe, expect, it } from "vitest";
import {
  createQueueWorker,
  createRedisConnection,
  InvalidPayloadError,
  jobId,
  PermanentJobError,
  pingRedis,
  RetryableJobError,
} from "../src/index";
import { useQueueHarness } from "./queue.harness";

const h = useQueueHarness();

function settled(worker: Worker, event: "completed" | "failed"): Promise<Job> {
  return new Promise((resolve) => worker.once(event, (job: Job) => resolve(job)));
}

describe("QueueService", () => {
  it("refuses a payload that does not match the catalog, naming the field", async () => {
    await expect(
      h.queues.add("pushMeterEvents", { customerId: "c1", category: "gold" as never, month: "2026-11" }),
    ).rejects.toThrow(InvalidPayloadError);
    await expect(
      h.queues.add("pushMeterEvents", { customerId: "c1", category: "compute", month: "2026-13" }),
    ).rejects.toThrow(/month: must be YYYY-MM/);
    expect(await h.queues.queue("pushMeterEvents").count()).toBe(0);
  });

  it("delivers a parsed payload to the worker", async () => {
    const seen: unknown[] = [];
    const worker = createQueueWorker(
      "syncUsage",
      async (payload) => {
        seen.push(payload);
      },
      { connection: h.redis.connection, prefix: h.redis.prefix },
    );
    h.workers.push(worker);
    const done = settled(worker, "completed");
    await h.queues.add("syncUsage", { syncId: "s1" });
    await done;
    expect(seen).toEqual([{ syncId: "s1", customerId: null, trigger: "manual" }]);
  });

  it("sends a permanent error straight to the failed set, without retries", async () => {
    let calls = 0;
    const worker = createQueueWorker(
      "alerts",
      async () => {
        calls++;
        throw new PermanentJobError("no such channel");
      },
      { connection: h.redis.connection, prefix: h.redis.prefix },
    );
    h.workers.push(worker);
    const failed = settled(worker, "failed");
    await h.queues.add("alerts", { kind: "k", dedupeKey: "d", title: "t", text: "x" });
    const job = await failed;
    expect(calls).toBe(1);
    expect(job.failedReason).toBe("no such channel");
    expect(await h.queues.queue("alerts").getFailedCount()).toBe(1);
  });

  it("keeps a huge error message out of Redis, and still retries", async () => {
    let calls = 0;
    const worker = createQueueWorker(
      "reconcile",
      async () => {
        calls++;
        throw new Error(`insert failed: params ${"x".repeat(100_000)}`);
      },
      { connection: h.redis.connection, prefix: h.redis.prefix },
    );
    h.workers.push(worker);
    const failed = settled(worker, "failed");
    await h.queues.add("reconcile", { month: "2026-11" }, { attempts: 1 });
    const job = await failed;
    expect(calls).toBe(1);
    expect(job.failedReason.length).toBeLessThan(2_100);
    expect(job.failedReason).toMatch(/^insert failed: params x+… \(\d+ more characters\)$/);
  });

  it("retries a retryable error", async () => {
    let calls = 0;
    const worker = createQueueWorker(
      "reconcile",
      async () => {
        calls++;
        if (calls < 3) throw new RetryableJobError("Stripe 429");
        return "ok";
      },
      { connection: h.redis.connection, prefix: h.redis.prefix },
    );
    h.workers.push(worker);
    const done = settled(worker, "completed");
    await h.queues.add("reconcile", { month: "2026-11" }, { backoff: { type: "fixed", delay: 10 } });
    const job = await done;
    expect(calls).toBe(3);
    expect(job.attemptsMade).toBe(3);
  });

  it("treats a repeated custom job id as a no-op", async () => {
    const id = jobId("evt", "evt_1:x");
    expect(id).not.toContain(":");
    await h.queues.add("stripeWebhooks", { eventId: "evt_1" }, { jobId: id });
    await h.queues.add("stripeWebhooks", { eventId: "evt_1" }, { jobId: id });
    expect(await h.queues.queue("stripeWebhooks").count()).toBe(1);
  });
});

describe("createRedisConnection", () => {
  it("fails fast for producers when Redis is unreachable", async () => {
    const r = createRedisConnection("redis://127.0.0.1:1", "producer", { retryStrategy: () => null });
    await expect(pingRedis(r, 1000)).rejects.toThrow();
    r.disconnect();
  });
});
