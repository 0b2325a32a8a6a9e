/** The metadata keys SPEC §2 bills from; everything else (io, prompts, chat text) is dropped. */
export const BILLING_METADATA_KEYS = [
  "customer_id",
  "usage_category",
  "cost_center",
  "subscription_tier",
  "compute_ms",
  "storage_gb_hours",
  // Not billed: lets a quarantine reason say why a Flowise trace has no customer (set by sparks relay).
  "sdk_integration",
] as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Keeps only the billing keys, values untouched (a string "1500" stays a string so core
 * quarantines it with its reason). Returns null when no billing key is present, so an
 * irrelevant metadata object never hides billing keys found elsewhere in the trace.
 */
export function pickBillingMetadata(metadata: unknown): Record<string, unknown> | null {
  if (!isPlainObject(metadata)) return null;
  const picked: Record<string, unknown> = {};
  let found = false;
  for (const key of BILLING_METADATA_KEYS) {
    if (Object.hasOwn(metadata, key)) {
      picked[key] = metadata[key];
      found = true;
    }
  }
  return found ? picked : null;
}

/** usageDetails as sent (values unchecked); null when absent or not an object. */
export function rawUsageDetails(value: unknown): Record<string, unknown> | null {
  return isPlainObject(value) ? { ...value } : null;
}
