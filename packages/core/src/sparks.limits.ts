import { CoreError } from "./core.error";
import { NANO_PER_SPARK } from "./sparks.money";

/** maxSparksPerItem (whole Sparks, a config number) as nano-Sparks. */
export function sparksToNanoLimit(maxSparksPerItem: number): bigint {
  if (!Number.isSafeInteger(maxSparksPerItem) || maxSparksPerItem < 0) {
    throw new CoreError(
      "invalid_argument",
      `maxSparksPerItem must be a non-negative whole number, got ${maxSparksPerItem}`,
    );
  }
  return BigInt(maxSparksPerItem) * NANO_PER_SPARK;
}
