import { createLangfuseEmulator, generateFlowiseTraffic, type LangfuseEmulator } from "@sparks/emulators";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { LangfuseError } from "../src/index";
import { DAY, expectRejection, hours, readAll, readerFor } from "./support/reader.fixture";

const WINDOW = { from: DAY, to: hours(3) };
const V2 = "GET /api/public/v2/observations";
let emulator: LangfuseEmulator;

beforeAll(async () => {
  emulator = await createLangfuseEmulator();
  emulator.store.addMany(generateFlowiseTraffic({ traces: 120, from: DAY, to: hours(3), seed: 8 }));
});
afterEach(() => {
  emulator.setRouteEnabled("v2Observations", true);
  emulator.stats.reset();
});
afterAll(async () => {
  await emulator.close();
});

describe("LANGFUSE_API modes", () => {
  test("auto uses v2 when the server has it", async () => {
    const reader = readerFor(emulator, { api: "auto" });
    expect(reader.resolvedMode()).toBeNull();
    const records = (await readAll(reader, WINDOW)).flat();
    expect(reader.resolvedMode()).toBe("v2");
    expect(records.length).toBe(emulator.store.observationCount);
    expect(emulator.stats.count({ route: "GET /api/public/traces" })).toBe(0);
  });

  test("auto falls back to v1 on 404 and remembers", async () => {
    emulator.setRouteEnabled("v2Observations", false);
    const reader = readerFor(emulator, { api: "auto" });
    const first = (await readAll(reader, WINDOW)).flat();
    expect(reader.resolvedMode()).toBe("v1");
    expect(first.filter((r) => r.type === "TRACE")).toHaveLength(emulator.store.traceCount);
    expect(first.filter((r) => r.type !== "TRACE")).toHaveLength(emulator.store.observationCount);
    const second = (await readAll(reader, WINDOW)).flat();
    expect(second).toHaveLength(first.length);
    // One v2 probe in total: the second read went straight to v1.
    expect(emulator.stats.count({ route: V2 })).toBe(1);
    expect(emulator.stats.count({ route: V2, status: 404 })).toBe(1);
  });

  test("explicit v2 on a server without v2 is a permanent error that says what to set", async () => {
    emulator.setRouteEnabled("v2Observations", false);
    const reader = readerFor(emulator, { api: "v2" });
    const error = await expectRejection(readAll(reader, WINDOW));
    expect(error).toBeInstanceOf(LangfuseError);
    expect(error).toMatchObject({ retryable: false, status: 404 });
    expect((error as Error).message).toContain("LANGFUSE_API=v1");
  });

  test("auto does not fall back on other errors (a 500 burst is retried on v2)", async () => {
    emulator.faults.next500(1, V2);
    const reader = readerFor(emulator, { api: "auto" });
    await readAll(reader, WINDOW);
    expect(reader.resolvedMode()).toBe("v2");
    expect(emulator.stats.count({ route: "GET /api/public/traces" })).toBe(0);
  });

  test("an empty window makes no request", async () => {
    const reader = readerFor(emulator, { api: "v2" });
    expect(await readAll(reader, { from: DAY, to: DAY })).toEqual([]);
    expect(emulator.stats.count()).toBe(0);
    expect(() => reader.readWindow({ from: hours(2), to: hours(1) })).toThrow(RangeError);
  });
});
