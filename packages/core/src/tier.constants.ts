export const TIER_NAMES = ["free", "standard", "enterprise"] as const;

export type TierName = (typeof TIER_NAMES)[number];

export function isTierName(x: unknown): x is TierName {
  return typeof x === "string" && (TIER_NAMES as readonly string[]).includes(x);
}
