import { createLangfuseEmulator, generateFlowiseTraffic, type LangfuseEmulator } from "@sparks/emulators";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { DAY, hours, readerFor } from "./support/reader.fixture";

const WINDOW = { from: DAY, to: hours(4) };
let emulator: LangfuseEmulator;

beforeAll(async () => {
  emulator = await createLangfuseEmulator();
  emulator.store.addMany(generateFlowiseTraffic({ traces: 300, from: DAY, to: hours(4), seed: 21 }));
});
beforeEach(() => {
  emulator.stats.reset();
});
afterAll(async () => {
  await emulator.close();
});

describe("pages are streamed lazily", () => {
  test.each(["v2", "v1"] as const)("%s: page N+1 is not fetched before page N is consumed", async (api) => {
    const reader = readerFor(emulator, { api, pageSize: 50 });
    const pages = reader.readWindow(WINDOW)[Symbol.asyncIterator]();
    expect(emulator.stats.count()).toBe(0);
    const first = await pages.next();
    expect(first.done).toBe(false);
    expect(first.value).toHaveLength(50);
    expect(emulator.stats.count()).toBe(1);
    // Nothing is fetched in the background while the caller holds page 1.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(emulator.stats.count()).toBe(1);
    await pages.next();
    expect(emulator.stats.count()).toBe(2);
    expect(reader.stats()).toMatchObject({ requests: 2, pages: 2, observations: 100 });
    // Stopping early stops the requests.
    await pages.return?.();
    expect(emulator.stats.count()).toBe(2);
  });

  test("the served pages never exceed pageSize records", async () => {
    const reader = readerFor(emulator, { api: "v2", pageSize: 100 });
    let pages = 0;
    let records = 0;
    for await (const page of reader.readWindow(WINDOW)) {
      expect(page.length).toBeLessThanOrEqual(100);
      pages++;
      records += page.length;
    }
    expect(records).toBe(emulator.store.observationCount);
    expect(pages).toBe(Math.ceil(records / 100));
  });
});
