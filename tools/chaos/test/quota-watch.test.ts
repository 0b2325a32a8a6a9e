import { describe, expect, it } from "vitest";
import { isWrongAnswer, type QuotaSample, QuotaWatch } from "../src/quota-watch";

/**
 * The `--redis-wipe` phase passes only when `/quota` was wrong for 0 s, so what counts as
 * wrong (and for how long) must not be vacuous: a wiped Redis's `used: 0` and an over-quota
 * customer let through are wrong; a refusal per the fail policy and an error status are not.
 */

const over = { used: 12_000, allowed: false };
const under = { used: 3_000, allowed: true };

function sample(customerId: string, fields: Partial<QuotaSample>): QuotaSample {
  return { customerId, status: 200, used: null, allowed: null, reason: null, counters: "live", ...fields };
}

describe("isWrongAnswer", () => {
  it("a wiped counter's used: 0 is wrong, even when the run is refused", () => {
    expect(isWrongAnswer(sample("a", { used: 0, allowed: false }), over)).toBe(true);
    expect(isWrongAnswer(sample("b", { used: 0, allowed: true }), under)).toBe(true);
  });

  it("an over-quota customer allowed is wrong even with the right number", () => {
    expect(isWrongAnswer(sample("a", { used: 12_000, allowed: true }), over)).toBe(true);
    expect(isWrongAnswer(sample("a", { used: 12_000, allowed: true, counters: "rebuilding" }), over)).toBe(
      true,
    );
  });

  it("refused with counters_unavailable from the ledger (fail closed) is not wrong", () => {
    const answer = sample("b", {
      used: 3_000,
      allowed: false,
      reason: "counters_unavailable",
      counters: "rebuilding",
    });
    expect(isWrongAnswer(answer, under)).toBe(false);
  });

  it("no answer (503, refused connection) is not a wrong answer", () => {
    expect(isWrongAnswer(sample("a", { status: 503 }), over)).toBe(false);
    expect(isWrongAnswer(sample("a", { status: 0 }), over)).toBe(false);
  });
});

describe("QuotaWatch", () => {
  const watch = new QuotaWatch(
    new Map([
      ["a", over],
      ["b", under],
    ]),
  );
  const right = [sample("a", { used: 12_000, allowed: false }), sample("b", { used: 3_000, allowed: true })];
  watch.record(1_000, right);
  // Redis wiped at 1 100: one customer answered from empty counters for two rounds.
  watch.record(1_100, [sample("a", { used: 0, allowed: true }), right[1] ?? sample("b", {})]);
  watch.record(1_350, [right[0] ?? sample("a", {}), sample("b", { used: 0, allowed: true })]);
  watch.record(1_400, [
    sample("a", { used: 12_000, allowed: false, reason: "quota_exceeded", counters: "rebuilding" }),
    sample("b", { status: 503 }),
  ]);
  watch.record(1_600, right);

  it("counts a wrong round until the next round started", () => {
    const figures = watch.figures(1_050, 2_000);
    expect(figures.rounds).toBe(4);
    expect(figures.wrongAnswers).toBe(2);
    expect(figures.wrongSeconds).toBeCloseTo(0.3, 6);
    expect(figures.degradedAnswers).toBe(1);
    expect(figures.errorAnswers).toBe(1);
    expect(figures.lastWrong?.customerId).toBe("b");
  });

  it("a window with only right answers has 0 wrong seconds", () => {
    expect(watch.figures(0, 1_050).wrongSeconds).toBe(0);
    expect(watch.figures(1_400, 2_000).wrongSeconds).toBe(0);
  });

  it("live again: the first all-live round after the last degraded one", () => {
    expect(watch.liveAgainAt(1_050, 2_000)).toBe(1_600);
    expect(watch.liveAgainAt(1_050, 1_500)).toBeNull();
    expect(watch.liveAgainAt(0, 1_050)).toBe(0);
  });

  it("the last wrong round ends at the window's end when no round follows inside it", () => {
    expect(watch.figures(1_100, 1_200).wrongSeconds).toBeCloseTo(0.1, 6);
  });
});
