import { describe, expect, it } from "vitest";
import { type ErrorView, finalizesAt, parseErrorId, rankErrors } from "../src";

function error(itemId: number, month: string, sparks: string): ErrorView {
  return {
    errorId: `ui_${itemId}`,
    itemId,
    traceId: `t${itemId}`,
    usageCategory: "ai_tokens",
    customerId: "c",
    customerRef: "c",
    month,
    occurredAt: new Date(`${month}-02T00:00:00Z`),
    status: "failed",
    reason: null,
    attempts: 1,
    nextRetryAt: null,
    amountAtRisk: { sparks, usd: "0" },
  };
}

describe("rankErrors", () => {
  it("ranks urgent before open before missed, then the earliest deadline, then the most money", () => {
    const now = new Date("2026-03-30T12:00:00Z");
    const ranked = rankErrors(
      [
        error(1, "2026-02", "500"), // finalized 2026-03-01T01:00Z: missed
        error(2, "2026-04", "900"), // a month away: open
        error(3, "2026-03", "10"), // finalizes 2026-04-01T01:00Z, within 72 h: urgent
        error(4, "2026-03", "20"),
      ],
      now,
    );
    expect(ranked.map((e) => [e.itemId, e.urgency])).toEqual([
      [4, "urgent"],
      [3, "urgent"],
      [2, "open"],
      [1, "missed"],
    ]);
    expect(finalizesAt("2026-03").toISOString()).toBe("2026-04-01T01:00:00.000Z");
  });

  it("parses error ids with or without the ui_ prefix and refuses anything else", () => {
    expect(parseErrorId("ui_12")).toBe(12);
    expect(parseErrorId(" 7 ")).toBe(7);
    expect(parseErrorId("ui_x")).toBeNull();
    expect(parseErrorId("12; drop")).toBeNull();
  });
});
