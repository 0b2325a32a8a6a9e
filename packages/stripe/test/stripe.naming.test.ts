import { describe, expect, it } from "vitest";
import {
  aggregateIdentifier,
  MAX_IDENTIFIER_LENGTH,
  meterEventIdentifier,
  meterEventName,
  priceLookupKey,
} from "../src/index";

describe("names", () => {
  it("prefixes meter event names and price lookup keys", () => {
    expect(meterEventName("sparks", "ai_tokens")).toBe("sparks_ai_tokens");
    expect(priceLookupKey("acme", "storage", "free")).toBe("acme_storage_free");
  });
});

describe("meterEventIdentifier", () => {
  it("keeps a safe trace id readable", () => {
    expect(
      meterEventIdentifier({ traceId: "7f3c2a9e-0b1d-4c1e-9a77-1f2e3d4c5b6a", category: "compute" }),
    ).toBe("compute-7f3c2a9e-0b1d-4c1e-9a77-1f2e3d4c5b6a");
    expect(meterEventIdentifier({ traceId: "t1", category: "ai_tokens", revision: 0 })).toBe("ai_tokens-t1");
  });

  it("suffixes corrections with their revision", () => {
    expect(meterEventIdentifier({ traceId: "t1", category: "ai_tokens", revision: 2 })).toBe(
      "ai_tokens-t1-r2",
    );
  });

  it("hashes long or unsafe trace ids to a fixed-length form", () => {
    const long = "x".repeat(81);
    const id = meterEventIdentifier({ traceId: long, category: "storage" });
    expect(id).toMatch(/^storage-h[0-9a-f]{40}$/);
    expect(meterEventIdentifier({ traceId: "a b/c", category: "storage" })).toMatch(
      /^storage-h[0-9a-f]{40}$/,
    );
    // Deterministic: a retry in another process derives the same identifier.
    expect(meterEventIdentifier({ traceId: long, category: "storage" })).toBe(id);
    expect(meterEventIdentifier({ traceId: "x".repeat(80), category: "storage" })).toBe(
      `storage-${"x".repeat(80)}`,
    );
  });

  it("never lets two different (trace, revision) pairs share an identifier", () => {
    const correction = meterEventIdentifier({ traceId: "abc", category: "compute", revision: 1 });
    const lookalike = meterEventIdentifier({ traceId: "abc-r1", category: "compute" });
    expect(lookalike).not.toBe(correction);
    const hashed = meterEventIdentifier({ traceId: "a b", category: "compute" });
    const rawLookalike = meterEventIdentifier({
      traceId: hashed.slice("compute-".length),
      category: "compute",
    });
    expect(rawLookalike).not.toBe(hashed);
  });

  it("stays within Stripe's 100 characters at the worst case", () => {
    const id = meterEventIdentifier({ traceId: "y".repeat(80), category: "ai_tokens", revision: 999_999 });
    expect(id.length).toBeLessThanOrEqual(MAX_IDENTIFIER_LENGTH);
  });

  it("refuses a negative or fractional revision", () => {
    expect(() => meterEventIdentifier({ traceId: "t", category: "compute", revision: -1 })).toThrow(
      RangeError,
    );
    expect(() => meterEventIdentifier({ traceId: "t", category: "compute", revision: 1.5 })).toThrow(
      RangeError,
    );
  });
});

describe("aggregateIdentifier", () => {
  it("depends on the set of items, not their order", () => {
    const a = aggregateIdentifier("ai_tokens", [3, 1, 2]);
    expect(a).toMatch(/^agg-ai_tokens-[0-9a-f]{40}$/);
    expect(aggregateIdentifier("ai_tokens", ["2", "3", "1"])).toBe(a);
    expect(aggregateIdentifier("ai_tokens", [1, 2])).not.toBe(a);
    expect(aggregateIdentifier("compute", [1, 2, 3])).not.toBe(a);
  });

  it("refuses an empty aggregate", () => {
    expect(() => aggregateIdentifier("compute", [])).toThrow(RangeError);
  });
});
