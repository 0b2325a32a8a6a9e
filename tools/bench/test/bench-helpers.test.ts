import { describe, expect, it } from "vitest";
import { BenchArgumentError, parseBenchArgs } from "../src/bench.args";
import { compareTotals } from "../src/figures/e2e.scenario";
import { steadyRate } from "../src/figures/scenario.util";
import { formatTable } from "../src/report";

describe("parseBenchArgs", () => {
  it("defaults to every figure at full size", () => {
    const args = parseBenchArgs([]);
    expect(args.only).toEqual([
      "ingest",
      "push",
      "budget",
      "langfuse-requests",
      "rss",
      "quota",
      "quota-fresh",
      "e2e",
    ]);
    expect(args).toMatchObject({ size: 1, smoke: false });
  });

  it("takes --only, --size, --smoke and the push knobs", () => {
    expect(
      parseBenchArgs(["--only", "push, e2e", "--size", "0.1", "--smoke", "--push-concurrency", "128"]),
    ).toEqual({ only: ["push", "e2e"], size: 0.1, smoke: true, pushConcurrency: 128 });
  });

  it("refuses unknown figures and bad numbers, naming the flag", () => {
    expect(() => parseBenchArgs(["--only", "speed"])).toThrow(BenchArgumentError);
    expect(() => parseBenchArgs(["--only", "speed"])).toThrow(/--only: unknown figure speed/);
    expect(() => parseBenchArgs(["--size", "0"])).toThrow(/--size/);
    expect(() => parseBenchArgs(["--push-processes", "1.5"])).toThrow(/--push-processes/);
  });
});

describe("compareTotals", () => {
  it("is empty when every customer + meter matches", () => {
    const a = new Map([
      ["cust_0001|sparks_ai_tokens", 120],
      ["cust_0002|sparks_compute", 7],
    ]);
    expect(compareTotals(a, new Map(a))).toEqual([]);
  });

  it("names each difference, including a meter only one side billed", () => {
    const sparks = new Map([
      ["cust_0001|sparks_ai_tokens", 120],
      ["cust_0002|sparks_compute", 7],
    ]);
    const naive = new Map([
      ["cust_0001|sparks_ai_tokens", 121],
      ["cust_0003|sparks_storage", 4],
    ]);
    expect(compareTotals(sparks, naive)).toEqual([
      "cust_0001|sparks_ai_tokens: Sparks 120, naive 121",
      "cust_0002|sparks_compute: Sparks 7, naive 0",
      "cust_0003|sparks_storage: Sparks 0, naive 4",
    ]);
  });
});

describe("steadyRate", () => {
  it("counts intervals between the first and last call", () => {
    expect(steadyRate([1_000, 1_250, 1_500, 1_750, 2_000])).toBe(4);
    expect(steadyRate([5])).toBe(0);
  });
});

describe("formatTable", () => {
  it("puts each figure beside its target and marks misses", () => {
    const table = formatTable([
      { figure: "push", label: "push", value: "3,100", target: "≥ 3,000", met: true },
      { figure: "quota", label: "quota p99", value: "7.00 ms", target: "≤ 5 ms", met: false },
    ]);
    const lines = table.split("\n");
    expect(lines[0]).toMatch(/^\| figure +\| measured \| target +\| +\|$/);
    expect(lines[2]).toContain("| push ");
    expect(lines[2]).toContain("3,100 | ≥ 3,000 | ok");
    expect(lines[3]).toContain("MISSED");
  });
});
