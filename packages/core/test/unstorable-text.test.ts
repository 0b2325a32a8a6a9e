import { describe, expect, it } from "vitest";
import { describeUnstorableText, findUnstorableText, parseMonth } from "../src";

describe("findUnstorableText", () => {
  it("finds a NUL in a nested value and names its path", () => {
    expect(findUnstorableText({ a: [{ b: "ok" }, { c: "x\u0000y" }] })).toEqual({
      path: "a.1.c",
      reason: "nul",
    });
  });

  it("finds lone surrogates (high or low) but accepts proper pairs", () => {
    expect(findUnstorableText({ name: "\ud83d\ude00 emoji" })).toBeNull();
    expect(findUnstorableText({ name: "a\ud83d" })).toEqual({ path: "name", reason: "lone_surrogate" });
    expect(findUnstorableText({ name: "\ude00b" })).toEqual({ path: "name", reason: "lone_surrogate" });
  });

  it("checks object keys too, and the top-level string", () => {
    expect(findUnstorableText({ "k\u0000": 1 })).toEqual({ path: "k\u0000", reason: "nul" });
    expect(findUnstorableText("\u0000")).toEqual({ path: "", reason: "nul" });
  });

  it("ignores numbers, booleans, null and clean strings", () => {
    expect(findUnstorableText({ n: 1, b: true, z: null, s: "plain", u: "ünïcödé" })).toBeNull();
  });

  it("describes the field and the reason", () => {
    expect(describeUnstorableText({ path: "customer_id", reason: "nul" }, "querystring")).toMatch(
      /^customer_id: must not contain a NUL/,
    );
    expect(describeUnstorableText({ path: "", reason: "lone_surrogate" }, "body")).toMatch(
      /^body: .*surrogate/,
    );
  });
});

describe("month bounds", () => {
  it("refuses 9999-12 (its end would be in year 10000) and keeps 9998-12", () => {
    expect(parseMonth("9999-12").ok).toBe(false);
    expect(parseMonth("9998-12").ok).toBe(true);
  });
});
