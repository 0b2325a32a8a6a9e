export const USAGE_CATEGORIES = ["ai_tokens", "compute", "storage"] as const;

export type UsageCategory = (typeof USAGE_CATEGORIES)[number];

export function isUsageCategory(x: unknown): x is UsageCategory {
  return typeof x === "string" && (USAGE_CATEGORIES as readonly string[]).includes(x);
}
