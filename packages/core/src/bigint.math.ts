/** Integer helpers for bigint: JS `/` truncates toward zero, but money rounding needs floor. */

export function pow10(exponent: number): bigint {
  if (!Number.isSafeInteger(exponent) || exponent < 0) {
    throw new RangeError(`pow10 needs a non-negative integer exponent, got ${exponent}`);
  }
  return 10n ** BigInt(exponent);
}

/** floor(a / b) for b > 0. */
export function floorDiv(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError("floorDiv needs a positive divisor");
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** a / b rounded half away from zero ("half-up" as used for money display), for b > 0. */
export function halfUpDiv(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError("halfUpDiv needs a positive divisor");
  const negative = a < 0n;
  const abs = negative ? -a : a;
  const q = (abs * 2n + b) / (2n * b);
  return negative ? -q : q;
}

export function maxBigInt(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
