import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CANCEL_WINDOW_MS,
  CoreError,
  correctionTotals,
  creditCents,
  type GiveBackStep,
  planGiveBack,
  splitIntoPriceRuns,
} from "../src/index";

const at = (iso: string) => new Date(iso);

describe("splitIntoPriceRuns", () => {
  const items = [
    { id: 1, t: at("2026-11-10T10:00:00Z") },
    { id: 2, t: at("2026-11-14T23:59:59Z") },
    { id: 3, t: at("2026-11-15T00:00:00Z") },
    { id: 4, t: at("2026-11-16T08:00:00Z") },
  ];

  it("cuts at a tier change, the boundary instant belonging to the new price", () => {
    const runs = splitIntoPriceRuns(items, (i) => i.t, [at("2026-11-15T00:00:00Z")]);
    expect(runs.map((r) => r.map((i) => i.id))).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it("keeps one run without boundaries and cuts at a calendar month", () => {
    expect(splitIntoPriceRuns(items, (i) => i.t, []).map((r) => r.length)).toEqual([4]);
    const across = [
      { id: 1, t: at("2026-10-31T23:59:59Z") },
      { id: 2, t: at("2026-11-01T00:00:00Z") },
    ];
    expect(splitIntoPriceRuns(across, (i) => i.t, []).map((r) => r.map((i) => i.id))).toEqual([[1], [2]]);
  });

  it("never puts two items of different segments or months in one run (property)", () => {
    const base = Date.UTC(2026, 9, 20);
    const span = 40 * 86_400_000;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: span }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: span }), { maxLength: 4 }),
        (offsets, cuts) => {
          const list = [...offsets].sort((a, b) => a - b).map((o) => new Date(base + o));
          const bounds = cuts.map((c) => new Date(base + c));
          const runs = splitIntoPriceRuns(list, (d) => d, bounds);
          expect(runs.flat()).toEqual(list);
          for (const run of runs) {
            const first = run[0] as Date;
            const last = run[run.length - 1] as Date;
            expect(first.getUTCMonth()).toBe(last.getUTCMonth());
            for (const b of bounds) expect(first < b && last >= b).toBe(false);
          }
        },
      ),
    );
  });
});

describe("planGiveBack", () => {
  const now = at("2026-11-20T12:00:00Z");
  const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);

  it("does nothing when nothing was over-sent", () => {
    expect(planGiveBack({ overSparks: 0n, candidates: [], stage: "open_period", now })).toEqual([]);
  });

  it("cancels a recent event and resends the right value", () => {
    const steps = planGiveBack({
      overSparks: 10n,
      candidates: [{ identifier: "llm-t1", value: 12n, receivedAt: hoursAgo(2) }],
      stage: "open_period",
      now,
    });
    expect(steps).toEqual([{ kind: "cancel", identifier: "llm-t1", sparks: 10n, resendValue: 2n }]);
  });

  it("credits on the invoice once the event is past the cancel window", () => {
    const steps = planGiveBack({
      overSparks: 10n,
      candidates: [
        { identifier: "llm-t1", value: 12n, receivedAt: new Date(now.getTime() - CANCEL_WINDOW_MS) },
      ],
      stage: "draft",
      now,
    });
    expect(steps).toEqual([{ kind: "invoice_credit", sparks: 10n }]);
  });

  it("uses a credit note on a finalized invoice even for a recent event", () => {
    const steps = planGiveBack({
      overSparks: 3n,
      candidates: [{ identifier: "llm-t1", value: 12n, receivedAt: hoursAgo(1) }],
      stage: "finalized",
      now,
    });
    expect(steps).toEqual([{ kind: "credit_note", sparks: 3n }]);
  });

  it("cancels newest first and credits what the cancellable events cannot carry", () => {
    const steps = planGiveBack({
      overSparks: 9n,
      candidates: [
        { identifier: "a", value: 3n, receivedAt: hoursAgo(5) },
        { identifier: "b", value: 4n, receivedAt: hoursAgo(1) },
        { identifier: "c", value: 50n, receivedAt: hoursAgo(30) },
        { identifier: "d", value: 5n, receivedAt: null },
      ],
      stage: "open_period",
      now,
    });
    expect(steps).toEqual<GiveBackStep[]>([
      { kind: "cancel", identifier: "b", sparks: 4n, resendValue: 0n },
      { kind: "cancel", identifier: "a", sparks: 3n, resendValue: 0n },
      { kind: "invoice_credit", sparks: 2n },
    ]);
  });

  it("always gives back exactly the over-sent Sparks (property)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10_000n }),
        fc.array(
          fc.record({ value: fc.bigInt({ min: 0n, max: 500n }), hours: fc.integer({ min: 0, max: 48 }) }),
        ),
        fc.constantFrom("open_period" as const, "draft" as const, "finalized" as const),
        (over, cands, stage) => {
          const steps = planGiveBack({
            overSparks: over,
            candidates: cands.map((c, i) => ({
              identifier: `e${i}`,
              value: c.value,
              receivedAt: hoursAgo(c.hours),
            })),
            stage,
            now,
          });
          expect(steps.reduce((s, x) => s + x.sparks, 0n)).toBe(over);
          for (const s of steps) {
            expect(s.sparks > 0n).toBe(true);
            if (s.kind === "cancel") expect(stage).not.toBe("finalized");
          }
        },
      ),
    );
  });

  it("refuses a negative amount", () => {
    expect(() => planGiveBack({ overSparks: -1n, candidates: [], stage: "draft", now })).toThrow(CoreError);
  });
});

describe("creditCents", () => {
  it("credits the difference of the rounded lines", () => {
    // 12,000 Sparks at $0.0001 billed $1.20; 10,000 back leaves $0.20 → credit $1.00.
    expect(
      creditCents({
        billedSparks: 12_000n,
        creditedSparks: 0n,
        creditedCents: 0n,
        sparks: 10_000n,
        rateUsd: "0.0001",
      }),
    ).toBe(100n);
    // 15 Sparks at $0.001 = 1.5¢ → 2¢ billed; 10 back leaves 0.5¢ → 1¢: credit 1¢, not round(1.0¢)=1¢…
    // …and 5 more back leaves 0¢: the second credit is 1¢, so the total credited is the whole 2¢.
    const first = creditCents({
      billedSparks: 15n,
      creditedSparks: 0n,
      creditedCents: 0n,
      sparks: 10n,
      rateUsd: "0.001",
    });
    const second = creditCents({
      billedSparks: 15n,
      creditedSparks: 10n,
      creditedCents: first,
      sparks: 5n,
      rateUsd: "0.001",
    });
    expect([first, second]).toEqual([1n, 1n]);
  });

  it("credits nothing on an unpriced (free) line", () => {
    expect(
      creditCents({
        billedSparks: 3_000n,
        creditedSparks: 0n,
        creditedCents: 0n,
        sparks: 3_000n,
        rateUsd: "0",
      }),
    ).toBe(0n);
  });

  it("leaves the line at exactly the price of the Sparks owed (property)", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1_000_000n }),
        fc.array(fc.bigInt({ min: 0n, max: 1_000n }), { maxLength: 5 }),
        fc.constantFrom("0.001", "0.0009", "0.00125", "0"),
        (billed, takes, rate) => {
          let credited = 0n;
          let cents = 0n;
          for (const take of takes) {
            if (credited + take > billed) break;
            cents += creditCents({
              billedSparks: billed,
              creditedSparks: credited,
              creditedCents: cents,
              sparks: take,
              rateUsd: rate,
            });
            credited += take;
          }
          const line = (s: bigint) =>
            creditCents({ billedSparks: s, creditedSparks: 0n, creditedCents: 0n, sparks: s, rateUsd: rate });
          expect(line(billed) - cents).toBe(line(billed - credited));
        },
      ),
    );
  });

  it("refuses to credit more than the line bills", () => {
    expect(() =>
      creditCents({ billedSparks: 5n, creditedSparks: 3n, creditedCents: 0n, sparks: 3n, rateUsd: "0.001" }),
    ).toThrow(CoreError);
  });
});

describe("correctionTotals", () => {
  it("rounds each billed line as Stripe does and nets the credits", () => {
    const totals = correctionTotals(
      [
        { sparks: 3_000n, rateUsd: "0" },
        { sparks: 1_205n, rateUsd: "0.001" },
        { sparks: 15n, rateUsd: "0.001" },
      ],
      [100n, 1n],
    );
    // 0¢ + round(120.5¢)=121¢ + round(1.5¢)=2¢ = 123¢ billed; 101¢ credited.
    expect(totals).toEqual({ billedCents: 123n, creditedCents: 101n, netCents: 22n });
  });
});
