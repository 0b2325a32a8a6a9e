import { expect, it } from "vitest";
import {
  createQueueWorker,
  JobFailedError,
  JobWaitTimeoutError,
  PermanentJobError,
  waitForJobResult,
} from "../src/index";
import { useQueueHarness } from "./queue.harness";

const h = useQueueHarness();

function work(handler: (ids: string[]) => Promise<unknown>): void {
  h.workers.push(
    createQueueWorker("retryErrors", (payload) => handler(payload.errorIds), {
      connection: h.redis.connection,
      prefix: h.redis.prefix,
    }),
  );
}

it("returns the worker's result, even one that landed before the first poll", async () => {
  work(async (ids) => ids.map((id) => ({ id, status: "pending" })));
  const job = await h.queues.add("retryErrors", { errorIds: ["ui_1", "ui_2"] });
  const result = await waitForJobResult(h.queues.queue("retryErrors"), job, { timeoutMs: 10_000 });
  expect(result).toEqual([
    { id: "ui_1", status: "pending" },
    { id: "ui_2", status: "pending" },
  ]);
});

it("without a worker, gives up at the bound with a retryable timeout; the job stays queued", async () => {
  const job = await h.queues.add("retryErrors", { errorIds: ["ui_1"] });
  const started = Date.now();
  const error = await waitForJobResult(h.queues.queue("retryErrors"), job, { timeoutMs: 400 }).catch(
    (e) => e,
  );
  expect(error).toBeInstanceOf(JobWaitTimeoutError);
  expect((error as JobWaitTimeoutError).retryable).toBe(true);
  expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  expect(Date.now() - started).toBeLessThan(2_000);
  expect(await job.getState()).toBe("waiting");
});

it("a job that failed for good throws the worker's reason", async () => {
  work(async () => {
    throw new PermanentJobError("no such item: ui_9");
  });
  const job = await h.queues.add("retryErrors", { errorIds: ["ui_9"] });
  const error = await waitForJobResult(h.queues.queue("retryErrors"), job, { timeoutMs: 10_000 }).catch(
    (e) => e,
  );
  expect(error).toBeInstanceOf(JobFailedError);
  expect((error as Error).message).toMatch(/no such item: ui_9/);
});
