import { describe, expect, it } from "vitest";
import { alertKeys, detectSpike, isOverBudget, quotaAlert, rateWindow } from "../src";

describe("detectSpike", () => {
  const options = { factor: 3, minimum: 100 };

  it("flags usage at or above factor × the trailing average and above the minimum", () => {
    expect(detectSpike(300, 100, options)).toEqual({ spike: true, ratio: 3 });
    expect(detectSpike(299, 100, options).spike).toBe(false);
  });

  it("ignores a large ratio on small numbers (below the minimum)", () => {
    expect(detectSpike(90, 1, options)).toEqual({ spike: false, ratio: 90 });
  });

  it("with no history only the minimum applies", () => {
    expect(detectSpike(100, 0, options)).toEqual({ spike: true, ratio: null });
    expect(detectSpike(0, 0, { factor: 3, minimum: 0 }).spike).toBe(false);
  });

  it("refuses non-finite input and a non-positive factor", () => {
    expect(() => detectSpike(Number.NaN, 1, options)).toThrow(RangeError);
    expect(() => detectSpike(1, 1, { factor: 0, minimum: 1 })).toThrow(RangeError);
  });
});

describe("rate policy", () => {
  it("windows are fixed UTC hours", () => {
    const w = rateWindow(new Date("2026-11-03T10:59:59.999Z"));
    expect(w.start.toISOString()).toBe("2026-11-03T10:00:00.000Z");
    expect(w.end.toISOString()).toBe("2026-11-03T11:00:00.000Z");
  });

  it("the Nth alert of the hour is the last one let through", () => {
    expect(isOverBudget(2, 3)).toBe(false);
    expect(isOverBudget(3, 3)).toBe(true);
  });
});

describe("quota alerts", () => {
  it("are keyed once per threshold, customer and month", () => {
    const a = quotaAlert({
      customerId: "cus_1",
      threshold: 80,
      month: "2026-11",
      usedSparks: 8000,
      limitSparks: 10000,
    });
    expect(a.kind).toBe("quota_80");
    expect(a.dedupeKey).toBe("quota:80:cus_1:2026-11");
    const b = quotaAlert({
      customerId: "cus_1",
      threshold: 100,
      usedSparks: 10000,
      limitSparks: 10000,
      at: new Date("2026-12-01T00:00:01Z"),
    });
    expect(b.kind).toBe("quota_100");
    expect(b.dedupeKey).toBe("quota:100:cus_1:2026-12");
    expect(alertKeys.usageSpike("cus_1", new Date("2026-11-03T10:15:00Z"))).toBe("spike:cus_1:2026-11-03T10");
  });
});
