import { describe, expect, it } from "vitest";
import {
  CoreError,
  closedWindowEnd,
  isOlderThanStripeLimit,
  monthCloseAt,
  monthOf,
  monthRange,
  nextMonth,
  parseMonth,
  prevMonth,
  STRIPE_MAX_EVENT_AGE_DAYS,
} from "../src/index";

describe("UTC months", () => {
  it("maps a moment to its UTC month", () => {
    expect(monthOf(new Date("2026-01-31T23:59:59.999Z"))).toBe("2026-01");
    expect(monthOf(new Date("2026-02-01T00:00:00.000Z"))).toBe("2026-02");
    // 23:30 on Jan 31 in UTC-5 is already February in UTC.
    expect(monthOf(new Date("2026-01-31T23:30:00-05:00"))).toBe("2026-02");
    expect(() => monthOf(new Date("nope"))).toThrow(CoreError);
  });

  it("parses valid months and explains bad ones", () => {
    expect(parseMonth("2026-03")).toEqual({ ok: true, val: "2026-03" });
    for (const bad of ["2026-13", "2026-00", "2026-1", "26-01", "2026-01-01", "", "1969-12"]) {
      const parsed = parseMonth(bad);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) {
        expect(parsed.err.code).toBe("invalid_month");
        expect(parsed.err.message).toContain(bad === "" ? "YYYY-MM" : bad);
      }
    }
    const notString = parseMonth(202603);
    expect(notString.ok).toBe(false);
  });

  it("gives [start, end) ranges, including February and leap years", () => {
    expect(monthRange("2026-02")).toEqual({
      start: new Date("2026-02-01T00:00:00Z"),
      end: new Date("2026-03-01T00:00:00Z"),
    });
    expect(monthRange("2024-02").end.getTime() - monthRange("2024-02").start.getTime()).toBe(29 * 86_400_000);
    expect(monthRange("2026-12").end).toEqual(new Date("2027-01-01T00:00:00Z"));
    expect(() => monthRange("2026-13")).toThrow(/expected 01–12/);
  });

  it("steps across year boundaries", () => {
    expect(nextMonth("2026-12")).toBe("2027-01");
    expect(nextMonth("2026-01")).toBe("2026-02");
    expect(prevMonth("2026-01")).toBe("2025-12");
    expect(prevMonth("2026-10")).toBe("2026-09");
  });

  it("closes a month only after the Langfuse lag", () => {
    expect(monthCloseAt("2026-01", 900)).toEqual(new Date("2026-02-01T00:15:00Z"));
    expect(monthCloseAt("2026-12", 0)).toEqual(new Date("2027-01-01T00:00:00Z"));
    expect(() => monthCloseAt("2026-01", -1)).toThrow(CoreError);
  });

  it("ends the closed window at now − lag", () => {
    expect(closedWindowEnd(new Date("2026-05-10T12:00:00Z"), 900)).toEqual(new Date("2026-05-10T11:45:00Z"));
    expect(() => closedWindowEnd(new Date("2026-05-10T12:00:00Z"), Number.NaN)).toThrow(CoreError);
  });

  it("knows Stripe's 35-day limit", () => {
    const now = new Date("2026-05-10T00:00:00Z");
    expect(STRIPE_MAX_EVENT_AGE_DAYS).toBe(35);
    expect(isOlderThanStripeLimit(new Date("2026-04-05T00:00:00Z"), now)).toBe(false); // exactly 35 days
    expect(isOlderThanStripeLimit(new Date("2026-04-04T23:59:59Z"), now)).toBe(true);
    expect(isOlderThanStripeLimit(new Date("2026-05-09T00:00:00Z"), now)).toBe(false);
  });
});
