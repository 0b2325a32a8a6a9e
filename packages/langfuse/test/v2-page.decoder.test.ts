import { describe, expect, test } from "vitest";
import { LangfuseError } from "../src/index";
import { decodeV2Page } from "../src/v2-page.decoder";

const ENDPOINT = "GET /api/public/v2/observations";

function row(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: "obs-1",
    traceId: "trace-1",
    type: "GENERATION",
    startTime: "2026-11-03T10:00:00.000Z",
    parentObservationId: null,
    isRootObservation: true,
    userId: "user-1",
    metadata: { customer_id: "cust_1", flowise_chatflow: "x", compute_ms: "12" },
    usageDetails: { input: 1, output: 2 },
    totalCost: 1e-7,
    unknownField: { ignored: true },
    ...overrides,
  };
}

function errorOf(body: unknown): string {
  try {
    decodeV2Page(body, ENDPOINT);
  } catch (error) {
    expect(error).toBeInstanceOf(LangfuseError);
    expect((error as LangfuseError).retryable).toBe(false);
    return (error as Error).message;
  }
  return "no error";
}

describe("decodeV2Page", () => {
  test("maps a row to a record: billing metadata only, raw usage, exact cost, cursor", () => {
    const page = decodeV2Page({ data: [row()], meta: { cursor: "c1" } }, ENDPOINT);
    expect(page.cursor).toBe("c1");
    expect(page.records).toEqual([
      {
        observationId: "obs-1",
        traceId: "trace-1",
        type: "GENERATION",
        startTime: new Date("2026-11-03T10:00:00.000Z"),
        userId: "user-1",
        isRoot: true,
        usageDetails: { input: 1, output: 2 },
        metadata: { customer_id: "cust_1", compute_ms: "12" },
        costUsd: "0.0000001",
      },
    ]);
  });

  test("root from the parent when isRootObservation is absent; no cursor on the last page", () => {
    const { records, cursor } = decodeV2Page(
      {
        data: [
          row({ id: "a", isRootObservation: undefined, parentObservationId: "p" }),
          row({ id: "b", isRootObservation: undefined, parentObservationId: undefined }),
        ],
        meta: { cursor: null },
      },
      ENDPOINT,
    );
    expect(records.map((r) => r.isRoot)).toEqual([false, true]);
    expect(cursor).toBeUndefined();
    expect(decodeV2Page({ data: [] }, ENDPOINT).cursor).toBeUndefined();
  });

  test("rows without a trace are skipped; non-object usage and metadata become null", () => {
    const { records } = decodeV2Page(
      {
        data: [
          row({ id: "no-trace", traceId: null }),
          row({ id: "empty-trace", traceId: "" }),
          row({ id: "odd", usageDetails: [1], metadata: "text", userId: null, totalCost: null }),
        ],
      },
      ENDPOINT,
    );
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      observationId: "odd",
      usageDetails: null,
      metadata: null,
      userId: null,
      costUsd: null,
    });
  });

  test("NUL becomes U+FFFD in ids, keys and nested values, without touching clean values", () => {
    const clean = { input: 5 };
    const { records } = decodeV2Page(
      {
        data: [
          row({ id: "o\u0000", traceId: "t\u0000", userId: "u\u0000", usageDetails: clean }),
          row({ id: "o2", metadata: { customer_id: "c\u0000", cost_center: { "k\u0000": ["v\u0000"] } } }),
        ],
      },
      ENDPOINT,
    );
    expect(records[0]).toMatchObject({ observationId: "o\uFFFD", traceId: "t\uFFFD", userId: "u\uFFFD" });
    expect(records[0]?.usageDetails).toBe(clean);
    expect(records[1]?.metadata).toEqual({ customer_id: "c\uFFFD", cost_center: { "k\uFFFD": ["v\uFFFD"] } });
  });

  test("a wrong shape names the field and is not retryable", () => {
    expect(errorOf(null)).toContain("(root): expected an object");
    expect(errorOf({ data: {} })).toContain("data: expected an array");
    expect(errorOf({ data: [], meta: null })).toContain("meta: expected an object");
    expect(errorOf({ data: [row({ id: "" })] })).toContain("data.0.id:");
    expect(errorOf({ data: [row(), row({ traceId: undefined })] })).toContain("data.1.traceId:");
    expect(errorOf({ data: [row({ startTime: "yesterday" })] })).toContain(
      "data.0.startTime: not an ISO date-time",
    );
    expect(errorOf({ data: [row({ totalCost: "0.1" })] })).toContain("data.0.totalCost:");
    expect(errorOf({ data: [row({ isRootObservation: null })] })).toContain("data.0.isRootObservation:");
    expect(errorOf({ data: [row({ userId: 7 })] })).toContain("data.0.userId:");
  });
});
