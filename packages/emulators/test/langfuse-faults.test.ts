import { LangfuseClient } from "@langfuse/client";
import { afterEach, describe, expect, it } from "vitest";
import { createLangfuseEmulator, type LangfuseEmulator, type LangfuseEmulatorOptions } from "../src/index";

const T0 = Date.parse("2026-11-20T12:00:00.000Z");

/** A clock the test moves by hand, so nothing ever waits. */
function manualClock(startMs = T0) {
  let nowMs = startMs;
  return { now: () => new Date(nowMs), advance: (ms: number) => (nowMs += ms) };
}

describe("Langfuse emulator: auth, validation and faults", () => {
  let emulator: LangfuseEmulator | undefined;
  afterEach(async () => {
    await emulator?.close();
    emulator = undefined;
  });

  const start = async (options: LangfuseEmulatorOptions = {}) => {
    emulator = await createLangfuseEmulator(options);
    emulator.store.addTrace({ id: "t1", timestamp: new Date(T0 - 3_600_000), userId: "cust_1" }, [
      { id: "o1", type: "SPAN", startTime: new Date(T0 - 3_600_000), endTime: new Date(T0 - 3_599_000) },
    ]);
    return emulator;
  };
  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  const call = (
    e: LangfuseEmulator,
    path: string,
    authorization: string | null = basic(e.publicKey, e.secretKey),
  ) => fetch(`${e.url}${path}`, authorization ? { headers: { authorization } } : {});

  it("401 without credentials, with a wrong secret, and with a non-Basic scheme", async () => {
    const e = await start();
    for (const auth of [
      null,
      basic(e.publicKey, "sk-wrong"),
      basic("pk-wrong", e.secretKey),
      `Bearer ${e.secretKey}`,
    ]) {
      const res = await call(e, "/api/public/v2/observations", auth);
      expect(res.status).toBe(401);
      const body = (await res.json()) as { message: string; error: string };
      expect(body.error).toBe("UnauthorizedError");
      expect(body.message.length).toBeGreaterThan(0);
    }
    expect((await call(e, "/api/public/v2/observations")).status).toBe(200);
    expect(e.stats.count({ route: "GET /api/public/v2/observations", status: 401 })).toBe(4);
  });

  it("400 for limits out of range, bad dates, bad cursors and unknown field groups", async () => {
    const e = await start();
    const bad = [
      "/api/public/v2/observations?limit=0",
      "/api/public/v2/observations?limit=1001",
      "/api/public/v2/observations?limit=abc",
      "/api/public/v2/observations?fromStartTime=yesterday",
      "/api/public/v2/observations?toStartTime=2026-13-45T00:00:00Z",
      "/api/public/v2/observations?cursor=bm90LWEtY3Vyc29y",
      "/api/public/v2/observations?fields=core,tokens",
      "/api/public/v2/observations?parseIoAsJson=true",
      "/api/public/traces?limit=101",
      "/api/public/traces?page=0",
      "/api/public/traces?fromTimestamp=2026-11-20",
      "/api/public/observations?limit=0",
      "/api/public/observations?fromStartTime=not-a-date",
    ];
    for (const path of bad) {
      const res = await call(e, path);
      expect(res.status, path).toBe(400);
      const body = (await res.json()) as { message: string; error: unknown[] };
      expect(body.message).toBe("Invalid request data");
      expect(Array.isArray(body.error)).toBe(true);
    }
    for (const ok of [
      "limit=1",
      "limit=1000",
      "fromStartTime=2026-11-20T00:00:00Z",
      "fromStartTime=2026-11-20T00:00:00.000%2B01:00",
    ]) {
      expect((await call(e, `/api/public/v2/observations?${ok}`)).status, ok).toBe(200);
    }
  });

  it("next N requests get 429 with Retry-After, then 500, then recover", async () => {
    const e = await start();
    e.faults.next429(2, 7);
    e.faults.next500(1);
    const first = await call(e, "/api/public/v2/observations");
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("7");
    expect((await call(e, "/api/public/traces")).status).toBe(429);
    expect((await call(e, "/api/public/v2/observations")).status).toBe(500);
    expect((await call(e, "/api/public/v2/observations")).status).toBe(200);
    expect(e.stats.snapshot()["GET /api/public/v2/observations"]).toEqual({ 429: 1, 500: 1, 200: 1 });
  });

  it("the official client retries a 429 after Retry-After and succeeds", async () => {
    const e = await start();
    e.faults.next429(1, 1, "GET /api/public/v2/observations");
    const client = new LangfuseClient({ publicKey: e.publicKey, secretKey: e.secretKey, baseUrl: e.url });
    const res = await client.api.observations.getMany({ limit: 10 });
    expect(res.data.map((o) => o.id)).toEqual(["o1"]);
    expect(e.stats.count({ status: 429 })).toBe(1);
  });

  it("per-minute request limit answers 429 until the window passes", async () => {
    const clock = manualClock();
    const e = await start({ now: clock.now, requestsPerMinute: 3 });
    for (let i = 0; i < 3; i++) expect((await call(e, "/api/public/v2/observations")).status).toBe(200);
    clock.advance(20_000);
    const limited = await call(e, "/api/public/v2/observations");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("40");
    expect(limited.headers.get("x-ratelimit-limit")).toBe("3");
    clock.advance(40_000);
    expect((await call(e, "/api/public/v2/observations")).status).toBe(200);
  });

  it("random failures are reproducible by seed", async () => {
    const run = async () => {
      const e = await start({ randomFailures: { rate429: 0.2, rate500: 0.1, seed: 99 } });
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await call(e, "/api/public/v2/observations")).status);
      await e.close();
      emulator = undefined;
      return statuses;
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual(b);
    expect(a).toContain(429);
    expect(a).toContain(500);
    expect(a).toContain(200);
  });

  it("a late observation becomes visible only after the ingestion delay", async () => {
    const clock = manualClock();
    const e = await start({ now: clock.now, ingestionDelayMs: 10 * 60_000 });
    const startTime = new Date(T0 - 60_000);
    e.store.addObservations("t1", [
      {
        id: "late",
        type: "GENERATION",
        startTime,
        endTime: new Date(T0 - 55_000),
        usageDetails: { total: 10 },
      },
    ]);
    const ids = async () => {
      const res = await call(e, "/api/public/v2/observations?fields=core,usage");
      return ((await res.json()) as { data: Array<{ id: string }> }).data.map((o) => o.id);
    };
    expect(await ids()).toEqual(["o1"]);
    clock.advance(9 * 60_000);
    expect(await ids()).toEqual(["o1"]);
    clock.advance(60_000);
    expect(await ids()).toEqual(["late", "o1"]);
    // Explicit visibleAt overrides the default delay.
    e.store.addObservations("t1", [
      { id: "later", type: "SPAN", startTime, visibleAt: new Date(clock.now().getTime() + 3_600_000) },
    ]);
    expect(await ids()).toEqual(["late", "o1"]);
    expect((await call(e, "/api/public/observations/later")).status).toBe(404);
  });

  it("cursor paging neither skips nor repeats when observations arrive between pages", async () => {
    const e = await start();
    const base = T0 - 86_400_000;
    const obs = (id: string, ms: number) => ({ id, type: "SPAN" as const, startTime: new Date(ms) });
    // Several observations share a start time: the id tiebreak keeps their order stable.
    e.store.addObservations(
      "t1",
      Array.from({ length: 30 }, (_, i) =>
        obs(`a${String(i).padStart(2, "0")}`, base + Math.floor(i / 3) * 1000),
      ),
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    let round = 0;
    do {
      const res = await call(e, `/api/public/v2/observations?limit=4${cursor ? `&cursor=${cursor}` : ""}`);
      const body = (await res.json()) as { data: Array<{ id: string }>; meta: { cursor?: string } };
      seen.push(...body.data.map((o) => o.id));
      cursor = body.meta.cursor;
      round++;
      // Late data on both sides of the cursor: newer than it (a later re-scan finds it) and older.
      e.store.addObservations("t1", [obs(`new${round}`, T0), obs(`old${round}`, base - round * 1000)]);
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    const originals = seen.filter((id) => id.startsWith("a") || id === "o1");
    expect(originals.length).toBe(31);
    expect(seen.some((id) => id.startsWith("new"))).toBe(false);
    expect(seen.filter((id) => id.startsWith("old")).length).toBeGreaterThan(0);
  });

  it("switched-off legacy routes answer 404; v2 keeps working; switching works at runtime", async () => {
    const e = await start({ routes: { legacyTraces: false, legacyObservations: false } });
    const removed = await call(e, "/api/public/traces");
    expect(removed.status).toBe(404);
    expect(((await removed.json()) as { message: string }).message).toContain("/api/public/v2/observations");
    expect((await call(e, "/api/public/observations")).status).toBe(404);
    expect((await call(e, "/api/public/traces/t1")).status).toBe(200);
    expect((await call(e, "/api/public/v2/observations")).status).toBe(200);
    e.setRouteEnabled("v2Observations", false);
    expect((await call(e, "/api/public/v2/observations")).status).toBe(404);
    e.setRouteEnabled("legacyTraces", true);
    expect((await call(e, "/api/public/traces")).status).toBe(200);
    expect((await call(e, "/api/public/traces/missing")).status).toBe(404);
    expect((await call(e, "/api/public/nope")).status).toBe(404);
  });
});
