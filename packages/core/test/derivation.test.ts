import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type BillingConfig,
  DEFAULT_BILLING_CONFIG,
  deriveUsage,
  NANO_PER_SPARK,
  type ObservationInput,
  type TraceInput,
} from "../src/index";

const config = DEFAULT_BILLING_CONFIG;

function trace(overrides: Partial<TraceInput> = {}): TraceInput {
  return {
    traceId: "t-1",
    timestamp: new Date("2026-03-05T10:00:00Z"),
    userId: null,
    metadata: { customer_id: "cus_1" },
    observations: [],
    ...overrides,
  };
}

function generation(
  id: string,
  usageDetails: Record<string, unknown> | null,
  metadata: Record<string, unknown> | null = null,
): ObservationInput {
  return { id, type: "GENERATION", metadata, usageDetails };
}

describe("deriveUsage: categories", () => {
  it("sums GENERATION usage: total, else input + output; ignores other observation types", () => {
    const result = deriveUsage(
      trace({
        observations: [
          generation("g1", { input: 100, output: 50, total: 150 }),
          generation("g2", { input: 700, output: 150 }),
          generation("g3", { input: 3 }),
          { id: "s1", type: "SPAN", metadata: null, usageDetails: { total: 99_999 } },
          generation("g4", null),
        ],
      }),
      config,
    );
    expect(result.items).toEqual([
      { category: "ai_tokens", quantity: "1003", unit: "tokens", nanoSparks: 100_300_000_000n },
    ]);
    expect(result.quarantined).toEqual([]);
    expect(result.traceProblem).toBeNull();
    expect(result.customerRef).toBe("cus_1");
  });

  it("reads compute_ms and storage_gb_hours, with decimals", () => {
    const result = deriveUsage(
      trace({ metadata: { customer_id: "cus_1", compute_ms: 90_000, storage_gb_hours: 1.5 } }),
      config,
    );
    expect(result.items).toEqual([
      { category: "compute", quantity: "90000", unit: "ms", nanoSparks: 75n * NANO_PER_SPARK },
      // 1.5 × 500 / 730 = 1.027397260273… Sparks, floored at the nano.
      { category: "storage", quantity: "1.5", unit: "GB-hours", nanoSparks: 1_027_397_260n },
    ]);
  });

  it("finds metadata on observations, and the trace's value wins", () => {
    const result = deriveUsage(
      trace({
        metadata: { compute_ms: 60_000 },
        userId: null,
        observations: [
          {
            id: "o1",
            type: "SPAN",
            metadata: { compute_ms: 1, customer_id: "cus_obs", cost_center: "ml" },
            usageDetails: null,
          },
          { id: "o2", type: "SPAN", metadata: { customer_id: "cus_other" }, usageDetails: null },
        ],
      }),
      config,
    );
    expect(result.customerRef).toBe("cus_obs");
    expect(result.costCenter).toBe("ml");
    expect(result.items).toEqual([
      { category: "compute", quantity: "60000", unit: "ms", nanoSparks: 50n * NANO_PER_SPARK },
    ]);
  });

  it("yields no item for a trace with nothing to bill, or zero quantities", () => {
    expect(deriveUsage(trace(), config).items).toEqual([]);
    const zeros = deriveUsage(
      trace({ metadata: { customer_id: "c", compute_ms: 0 }, observations: [generation("g", { total: 0 })] }),
      config,
    );
    expect(zeros.items).toEqual([]);
    expect(zeros.quarantined).toEqual([]);
  });

  it("bills tiny quantities exactly (floored at the nano)", () => {
    const result = deriveUsage(trace({ metadata: { customer_id: "c", compute_ms: 1e-7 } }), config);
    expect(result.items).toEqual([
      { category: "compute", quantity: "0.0000001", unit: "ms", nanoSparks: 0n },
    ]);
  });
});

describe("deriveUsage: customer, tier hint, cost center", () => {
  it("falls back to userId and defaults the cost center", () => {
    const result = deriveUsage(trace({ metadata: null, userId: "auth0|abc" }), config);
    expect(result.customerRef).toBe("auth0|abc");
    expect(result.costCenter).toBe("default");
    expect(result.tierHint).toBeNull();
    expect(result.traceProblem).toBeNull();
  });

  it("flags a trace without a resolvable customer but still derives its items", () => {
    const result = deriveUsage(trace({ metadata: { compute_ms: 60_000 }, userId: null }), config);
    expect(result.customerRef).toBeNull();
    expect(result.traceProblem).toMatch(/missing customer_id/);
    expect(result.items).toHaveLength(1);
  });

  it("says a Flowise trace without a customer probably has its Override Configuration off", () => {
    const result = deriveUsage(
      trace({ metadata: { sdk_integration: "Flowise", compute_ms: 1 }, userId: null }),
      config,
    );
    expect(result.traceProblem).toMatch(
      /^missing customer_id: .*Flowise: enable the chatflow's Override Configuration/,
    );
  });

  it("takes a whole-number customer_id as the id it spells", () => {
    const result = deriveUsage(trace({ metadata: { customer_id: 42 }, userId: "u" }), config);
    expect(result.customerRef).toBe("42");
    expect(result.traceProblem).toBeNull();
  });

  it.each([
    [4.5, "4.5"],
    [-1, "-1"],
    [true, "boolean true"],
    [{ id: "c" }, "an object"],
  ])("flags a customer_id of %j naming the value", (value, shown) => {
    const result = deriveUsage(trace({ metadata: { customer_id: value }, userId: "u" }), config);
    expect(result.customerRef).toBeNull();
    expect(result.traceProblem).toBe(
      `customer_id (trace metadata) must be a non-empty string or a whole number, got ${shown}`,
    );
  });

  it("keeps subscription_tier as a hint and warns on non-string optional keys", () => {
    const result = deriveUsage(
      trace({ metadata: { customer_id: "c", subscription_tier: "gold", cost_center: 7 } }),
      config,
    );
    expect(result.tierHint).toBe("gold");
    expect(result.costCenter).toBe("default");
    expect(result.warnings).toEqual([
      "cost_center (trace metadata) should be a non-empty string, got 7; ignored",
    ]);
  });
});

describe("deriveUsage: usage_category", () => {
  it("bills only the requested category and warns about the rest", () => {
    const result = deriveUsage(
      trace({
        metadata: { customer_id: "c", usage_category: "compute", compute_ms: 60_000, storage_gb_hours: 730 },
        observations: [generation("g", { total: 1000 })],
      }),
      config,
    );
    expect(result.items.map((i) => i.category)).toEqual(["compute"]);
    expect(result.warnings).toHaveLength(2);
    expect(result.quarantined).toEqual([]);
  });

  it("quarantines an unknown usage_category and bills nothing else", () => {
    const result = deriveUsage(
      trace({ metadata: { customer_id: "c", usage_category: "gpu", compute_ms: 60_000 } }),
      config,
    );
    expect(result.items).toEqual([]);
    expect(result.quarantined).toEqual([
      {
        category: null,
        reason:
          'usage_category (trace metadata) is the string "gpu", expected one of ai_tokens, compute, storage',
        rawValue: "gpu",
      },
    ]);
  });
});

describe("deriveUsage: plain decimal strings are quantities (SPEC §2, v5 SDK metadata)", () => {
  it("bills string quantities exactly like the numbers they spell", () => {
    const fromStrings = deriveUsage(
      trace({
        metadata: { customer_id: "c", compute_ms: "1500", storage_gb_hours: "0.25" },
        observations: [
          generation("g", { input: "1000", output: "200" }),
          generation("h", { total: "300.0" }),
        ],
      }),
      config,
    );
    const fromNumbers = deriveUsage(
      trace({
        metadata: { customer_id: "c", compute_ms: 1500, storage_gb_hours: 0.25 },
        observations: [generation("g", { input: 1000, output: 200 }), generation("h", { total: 300 })],
      }),
      config,
    );
    expect(fromStrings.quarantined).toEqual([]);
    expect(fromStrings.items).toEqual(fromNumbers.items);
    expect(fromStrings.items.map((i) => [i.category, i.quantity])).toEqual([
      ["ai_tokens", "1500"],
      ["compute", "1500"],
      ["storage", "0.25"],
    ]);
  });

  it('yields no item for the string "0"', () => {
    const result = deriveUsage(trace({ metadata: { customer_id: "c", compute_ms: "0" } }), config);
    expect(result.items).toEqual([]);
    expect(result.quarantined).toEqual([]);
  });
});

describe("deriveUsage: bad values quarantine with a reason", () => {
  it.each([
    ...["1.5k", "n/a", "1e3", "NaN", "-5", " 15", "1,500", "0x10", "", ".5", "5."].map(
      (text): [Record<string, unknown>, string, string] => [
        { compute_ms: text },
        "compute",
        `compute_ms (trace metadata) must be a number or a plain non-negative decimal string (like "1500" or "0.25"), got the string ${JSON.stringify(text)}`,
      ],
    ),
    [{ compute_ms: -5 }, "compute", "compute_ms (trace metadata) must not be negative, got -5"],
    [{ compute_ms: Number.NaN }, "compute", "compute_ms (trace metadata) must be a finite number, got NaN"],
    [
      { storage_gb_hours: Number.POSITIVE_INFINITY },
      "storage",
      "storage_gb_hours (trace metadata) must be a finite number, got Infinity",
    ],
    [
      { storage_gb_hours: { gb: 1 } },
      "storage",
      "storage_gb_hours (trace metadata) must be a number or a plain non-negative decimal string, got an object",
    ],
    [
      { storage_gb_hours: true },
      "storage",
      "storage_gb_hours (trace metadata) must be a number or a plain non-negative decimal string, got boolean true",
    ],
  ])("%j", (metadata, category, reason) => {
    const result = deriveUsage(trace({ metadata: { customer_id: "c", ...metadata } }), config);
    expect(result.items).toEqual([]);
    expect(result.quarantined).toEqual([{ category, reason, rawValue: Object.values(metadata)[0] }]);
  });

  it.each([
    [
      { total: "1500.5" },
      'usageDetails.total of GENERATION observation "g9" must be a whole number of tokens, got the string "1500.5"',
    ],
    [
      { total: "1e3" },
      'usageDetails.total of GENERATION observation "g9" must be a number or a plain non-negative decimal string (like "1500" or "0.25"), got the string "1e3"',
    ],
    [
      { total: 12.5 },
      'usageDetails.total of GENERATION observation "g9" must be a whole number of tokens, got 12.5',
    ],
    [
      { input: 10, output: -1 },
      'usageDetails.output of GENERATION observation "g9" must not be negative, got -1',
    ],
  ])("tokens %j", (usage, reason) => {
    const result = deriveUsage(
      trace({
        observations: [generation("g1", { total: 10 }), generation("g9", usage)],
        metadata: { customer_id: "c", compute_ms: 60 },
      }),
      config,
    );
    expect(result.quarantined).toHaveLength(1);
    expect(result.quarantined[0]).toMatchObject({ category: "ai_tokens", reason });
    // Other categories are unaffected.
    expect(result.items.map((i) => i.category)).toEqual(["compute"]);
  });

  it("quarantines an item worth more than max_sparks_per_item, and accepts exactly the max", () => {
    // 1,000,000 Sparks = 10,000,000 tokens.
    const atMax = deriveUsage(trace({ observations: [generation("g", { total: 10_000_000 })] }), config);
    expect(atMax.items).toHaveLength(1);
    const over = deriveUsage(trace({ observations: [generation("g", { total: 10_000_001 })] }), config);
    expect(over.items).toEqual([]);
    expect(over.quarantined).toEqual([
      {
        category: "ai_tokens",
        reason:
          "ai_tokens quantity 10000001 tokens is worth 1000000.1 Sparks, more than max_sparks_per_item (1000000)",
        rawValue: "10000001",
      },
    ]);
    const lowMax: BillingConfig = { ...config, maxSparksPerItem: 10 };
    expect(
      deriveUsage(trace({ metadata: { customer_id: "c", compute_ms: 1e21 } }), lowMax).quarantined[0]?.reason,
    ).toBe(
      "compute quantity 1000000000000000000000 ms is worth 833333333333333333.333333333 Sparks, more than max_sparks_per_item (10)",
    );
  });
});

describe("deriveUsage: properties", () => {
  const jsonish = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.string({ maxLength: 5 }),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.constant(-1),
    fc.constant(1e300),
  );
  const record = fc.option(
    fc.record(
      {
        customer_id: fc.oneof(fc.string({ maxLength: 4 }), jsonish),
        compute_ms: jsonish,
        storage_gb_hours: jsonish,
        usage_category: fc.oneof(fc.constantFrom("ai_tokens", "compute", "storage", "bogus"), jsonish),
      },
      { requiredKeys: [] },
    ),
    { nil: null },
  );
  const observation = fc.record({
    id: fc.string({ maxLength: 4 }),
    type: fc.constantFrom("GENERATION", "SPAN", "EVENT"),
    metadata: record,
    usageDetails: fc.option(
      fc.record({ input: jsonish, output: jsonish, total: jsonish }, { requiredKeys: [] }),
      {
        nil: null,
      },
    ),
  });
  const traces = fc.record({
    traceId: fc.string({ maxLength: 4 }),
    timestamp: fc.constant(new Date("2026-01-01T00:00:00Z")),
    userId: fc.option(fc.string({ maxLength: 4 }), { nil: null }),
    metadata: record,
    observations: fc.array(observation, { maxLength: 5 }),
  });

  it("never derives negative, NaN or over-max items, and accounts for every category at most once", () => {
    fc.assert(
      fc.property(traces, (t) => {
        const result = deriveUsage(t as TraceInput, config);
        const maxNano = BigInt(config.maxSparksPerItem) * NANO_PER_SPARK;
        const seen = new Set<string | null>();
        for (const item of result.items) {
          expect(item.nanoSparks >= 0n && item.nanoSparks <= maxNano).toBe(true);
          expect(item.quantity).toMatch(/^\d+(\.\d+)?$/);
          expect(Number(item.quantity)).toBeGreaterThan(0);
          expect(seen.has(item.category)).toBe(false);
          seen.add(item.category);
        }
        for (const q of result.quarantined) {
          expect(q.reason.length).toBeGreaterThan(10);
          expect(seen.has(q.category)).toBe(false);
          seen.add(q.category);
        }
        expect(result.customerRef === null).toBe(result.traceProblem !== null);
        expect(typeof result.costCenter).toBe("string");
      }),
      { numRuns: 500 },
    );
  });
});
