import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLangfuseEmulator, generateFlowiseTraffic, type LangfuseEmulator } from "@sparks/emulators";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { LangfuseError, parseRetryAfter, type RetryInfo } from "../src/index";
import { DAY, expectRejection, fakeSleep, hours, readAll, readerFor } from "./support/reader.fixture";

const WINDOW = { from: DAY, to: hours(2) };
const V2 = "GET /api/public/v2/observations";
const V1_OBS = "GET /api/public/observations";
let emulator: LangfuseEmulator;
let total: number;

beforeAll(async () => {
  emulator = await createLangfuseEmulator();
  emulator.store.addMany(generateFlowiseTraffic({ traces: 40, from: DAY, to: hours(2), seed: 5 }));
  total = emulator.store.observationCount;
});
afterEach(() => {
  emulator.faults.reset();
  emulator.stats.reset();
});
afterAll(async () => {
  await emulator.close();
});

describe("retries against the emulator", () => {
  test("429 with Retry-After is waited for exactly that long, then the read completes", async () => {
    const { sleep, waits } = fakeSleep();
    const retries: RetryInfo[] = [];
    const reader = readerFor(emulator, { api: "v2", sleep, onRetry: (info) => retries.push(info) });
    emulator.faults.next429(1, 7, V2);
    const records = (await readAll(reader, WINDOW)).flat();
    expect(records).toHaveLength(total);
    expect(waits).toEqual([7000]);
    expect(retries).toMatchObject([{ endpoint: V2, attempt: 1, delayMs: 7000, status: 429 }]);
    expect(emulator.stats.count({ route: V2, status: 429 })).toBe(1);
    expect(reader.stats()).toMatchObject({ requests: 2, retries: 1 });
  });

  test("500s are retried with growing, jittered backoff, then succeed", async () => {
    const { sleep, waits } = fakeSleep();
    const reader = readerFor(emulator, { api: "v1", sleep, random: () => 0.5, pageSize: 50 });
    emulator.faults.next500(3, V1_OBS);
    const records = (await readAll(reader, WINDOW)).flat();
    expect(records.filter((r) => r.type !== "TRACE")).toHaveLength(total);
    expect(waits).toHaveLength(3);
    expect(waits[0]).toBeLessThan(waits[1] ?? 0);
    expect(waits[1]).toBeLessThan(waits[2] ?? 0);
    // Equal jitter keeps each wait within [ceiling/2, ceiling] of 500·2^n ms.
    expect(waits).toEqual([375, 750, 1500]);
    expect(reader.stats().retries).toBe(3);
  });

  test("after maxRetries the error is retryable (the job retries later) and carries the status", async () => {
    const { sleep, waits } = fakeSleep();
    const reader = readerFor(emulator, { api: "v2", sleep, maxRetries: 2 });
    emulator.faults.next500(10, V2);
    const error = await expectRejection(readAll(reader, WINDOW));
    expect(error).toBeInstanceOf(LangfuseError);
    expect(error).toMatchObject({ retryable: true, status: 500 });
    expect((error as Error).message).toMatch(/gave up after 3 attempts/);
    expect(waits).toHaveLength(2);
    expect(emulator.stats.count({ route: V2 })).toBe(3);
  });

  test("a Retry-After beyond maxRetryAfterMs is not slept in-process", async () => {
    const { sleep, waits } = fakeSleep();
    const reader = readerFor(emulator, { api: "v2", sleep, maxRetryAfterMs: 10_000 });
    emulator.faults.next429(1, 600, V2);
    const error = await expectRejection(readAll(reader, WINDOW));
    expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 600_000 });
    expect(waits).toEqual([]);
  });

  test("401 is permanent, names the env vars and is not retried", async () => {
    const { sleep, waits } = fakeSleep();
    const reader = readerFor(emulator, { api: "v2", sleep, secretKey: "sk-lf-wrong" });
    const error = await expectRejection(readAll(reader, WINDOW));
    expect(error).toBeInstanceOf(LangfuseError);
    expect(error).toMatchObject({ retryable: false, status: 401 });
    expect((error as Error).message).toContain(
      "Langfuse rejected the keys: check LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY",
    );
    expect((error as Error).message).not.toContain("sk-lf-wrong");
    expect(waits).toEqual([]);
    expect(emulator.stats.count({ route: V2 })).toBe(1);
  });

  test("an aborted read stops without further requests", async () => {
    const controller = new AbortController();
    const reader = readerFor(emulator, { api: "v1", pageSize: 10 });
    const seen: number[] = [];
    const error = await expectRejection(
      (async () => {
        for await (const page of reader.readWindow(WINDOW, { signal: controller.signal })) {
          seen.push(page.length);
          controller.abort();
        }
      })(),
    );
    expect(error).toMatchObject({ name: "AbortError" });
    expect(seen).toHaveLength(1);
    expect(emulator.stats.count()).toBe(1);
  });
});

/** A tiny server whose first request never answers, to exercise the client timeout. */
async function hangingOnce(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let count = 0;
  const server: Server = createServer((_req, res) => {
    count++;
    if (count === 1) return; // never answers
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ data: [], meta: {} }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test("a timed-out request is retried", async () => {
  const server = await hangingOnce();
  try {
    const retries: RetryInfo[] = [];
    const reader = readerFor(emulator, {
      api: "v2",
      baseUrl: server.url,
      timeoutMs: 200,
      onRetry: (info) => retries.push(info),
    });
    expect((await readAll(reader, WINDOW)).flat()).toEqual([]);
    expect(server.requests()).toBe(2);
    expect(retries[0]?.reason).toMatch(/timed out/);
  } finally {
    await server.close();
  }
});

test("parseRetryAfter reads delta-seconds and HTTP dates", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  expect(parseRetryAfter("12", now)).toBe(12_000);
  expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
  expect(parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now)).toBe(0);
  expect(parseRetryAfter("soon", now)).toBeUndefined();
  expect(parseRetryAfter(null, now)).toBeUndefined();
});

test("a refused connection is retryable and retried", async () => {
  const { sleep, waits } = fakeSleep();
  const reader = readerFor(emulator, {
    api: "v2",
    baseUrl: "http://127.0.0.1:1",
    sleep,
    maxRetries: 1,
    timeoutMs: 1000,
  });
  const error = await expectRejection(readAll(reader, WINDOW));
  expect(error).toBeInstanceOf(LangfuseError);
  expect(error).toMatchObject({ retryable: true, status: undefined });
  expect(waits).toHaveLength(1);
  expect(reader.stats()).toMatchObject({ requests: 2, retries: 1 });
});
