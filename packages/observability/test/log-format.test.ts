import { describe, expect, it } from "vitest";
import { RepeatedLogGate, resolveLogFormat } from "../src/index";

describe("resolveLogFormat", () => {
  it("is pretty only on a terminal outside production", () => {
    expect(resolveLogFormat("auto", { isTty: true, production: false })).toBe("pretty");
    expect(resolveLogFormat("auto", { isTty: false, production: false })).toBe("json");
    expect(resolveLogFormat("auto", { isTty: true, production: true })).toBe("json");
  });
  it("follows an explicit LOG_FORMAT", () => {
    expect(resolveLogFormat("json", { isTty: true, production: false })).toBe("json");
    expect(resolveLogFormat("pretty", { isTty: false, production: true })).toBe("pretty");
  });
});

describe("RepeatedLogGate", () => {
  it("lets the first line through, folds the rest for a minute, then reports the count", () => {
    let now = 0;
    const gate = new RepeatedLogGate(60_000, () => now);
    expect(gate.admit("a")).toEqual({ repeated: 0 });
    now = 1_000;
    expect(gate.admit("a")).toBeNull();
    expect(gate.admit("a")).toBeNull();
    expect(gate.admit("b")).toEqual({ repeated: 0 });
    now = 61_000;
    expect(gate.admit("a")).toEqual({ repeated: 2 });
    expect(gate.admit("a")).toBeNull();
  });
});
