import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allocateWholeSparks,
  CoreError,
  driftNano,
  NANO_PER_SPARK,
  nextWholeSparksToSend,
  overSent,
} from "../src/index";

const HUGE = 10n ** 15n * NANO_PER_SPARK; // 1e15 Sparks in nano

/** Item sizes mixing zero, tiny (1 nano), fractional, whole and huge amounts. */
const itemNano = fc.oneof(
  fc.constant(0n),
  fc.constant(1n),
  fc.bigInt({ min: 0n, max: NANO_PER_SPARK }),
  fc.bigInt({ min: 0n, max: 50n * NANO_PER_SPARK }),
  fc.constant(HUGE),
  fc.bigInt({ min: 0n, max: HUGE }),
);

const sum = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

/** Sends items in batches the way a worker would: each batch reports the next whole number. */
function sendInBatches(items: readonly bigint[], cuts: readonly number[]): { exact: bigint; sent: bigint } {
  let exact = 0n;
  let sent = 0n;
  let start = 0;
  const boundaries = [...new Set(cuts.map((c) => c % (items.length + 1)))].sort((a, b) => a - b);
  for (const end of [...boundaries, items.length]) {
    exact += sum(items.slice(start, end));
    start = Math.max(start, end);
    const next = nextWholeSparksToSend({ exactTotalNano: exact, alreadySent: sent });
    expect(next >= 0n).toBe(true);
    sent += next;
    // Invariant after every send, not just at the end.
    expect(sent * NANO_PER_SPARK <= exact).toBe(true);
    expect(exact - sent * NANO_PER_SPARK < NANO_PER_SPARK).toBe(true);
  }
  return { exact, sent };
}

describe("nextWholeSparksToSend", () => {
  it("sends floor(exact) − alreadySent", () => {
    expect(nextWholeSparksToSend({ exactTotalNano: 0n, alreadySent: 0n })).toBe(0n);
    expect(nextWholeSparksToSend({ exactTotalNano: 1n, alreadySent: 0n })).toBe(0n);
    expect(nextWholeSparksToSend({ exactTotalNano: 2_500_000_000n, alreadySent: 0n })).toBe(2n);
    expect(nextWholeSparksToSend({ exactTotalNano: 2_999_999_999n, alreadySent: 2n })).toBe(0n);
    expect(nextWholeSparksToSend({ exactTotalNano: 3_000_000_000n, alreadySent: 2n })).toBe(1n);
    expect(nextWholeSparksToSend({ exactTotalNano: HUGE, alreadySent: 0n })).toBe(10n ** 15n);
  });

  it("returns 0 when already over-sent, and overSent reports the excess", () => {
    const state = { exactTotalNano: 4_200_000_000n, alreadySent: 6n };
    expect(nextWholeSparksToSend(state)).toBe(0n);
    expect(overSent(state)).toBe(2n);
    expect(overSent({ exactTotalNano: 4_200_000_000n, alreadySent: 4n })).toBe(0n);
    expect(driftNano({ exactTotalNano: 4_200_000_000n, alreadySent: 4n })).toBe(200_000_000n);
  });

  it("rejects negative state", () => {
    expect(() => nextWholeSparksToSend({ exactTotalNano: -1n, alreadySent: 0n })).toThrow(CoreError);
    expect(() => overSent({ exactTotalNano: 0n, alreadySent: -1n })).toThrow(CoreError);
  });

  it("never over-bills and drifts < 1 Spark for any sequence, order and batching", () => {
    fc.assert(
      fc.property(
        fc.array(itemNano, { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer(),
        (items, cutsA, cutsB, seed) => {
          const a = sendInBatches(items, cutsA);
          const shuffled =
            fc.sample(fc.shuffledSubarray(items, { minLength: items.length }), { seed, numRuns: 1 })[0] ?? [];
          const b = sendInBatches(shuffled, cutsB);
          // Same multiset of items → same exact total and same whole Sparks sent, whatever the order.
          expect(b.exact).toBe(a.exact);
          expect(b.sent).toBe(a.sent);
          expect(a.sent).toBe(a.exact / NANO_PER_SPARK);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("allocateWholeSparks", () => {
  it("keeps the running total equal to floor(running exact)", () => {
    const items = [400_000_000n, 400_000_000n, 400_000_000n, 0n, 1n, 1_799_999_999n].map((exactNano) => ({
      exactNano,
    }));
    expect(allocateWholeSparks(items)).toEqual([0n, 0n, 1n, 0n, 0n, 2n]);
  });

  it("carries a prior fraction and what was already sent", () => {
    // Prior exact 2.9 Sparks, 2 sent: the next 0.1 Spark completes the third Spark.
    expect(allocateWholeSparks([{ exactNano: 100_000_000n }], 2n, 2_900_000_000n)).toEqual([1n]);
    expect(allocateWholeSparks([{ exactNano: 100_000_000n }], 2n)).toEqual([0n]);
  });

  it("matches floor(running exact) after every item (property)", () => {
    fc.assert(
      fc.property(
        fc.array(itemNano, { maxLength: 80 }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        (items, priorExact) => {
          const alreadySent = priorExact / NANO_PER_SPARK;
          const allocations = allocateWholeSparks(
            items.map((exactNano) => ({ exactNano })),
            alreadySent,
            priorExact,
          );
          let exact = priorExact;
          let sent = alreadySent;
          items.forEach((item, i) => {
            exact += item;
            sent += allocations[i] ?? -1n;
            expect(sent).toBe(exact / NANO_PER_SPARK);
          });
        },
      ),
    );
  });

  it("rejects negative items", () => {
    expect(() => allocateWholeSparks([{ exactNano: -1n }])).toThrow(CoreError);
  });
});
