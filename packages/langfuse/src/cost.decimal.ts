import { formatDecimal, parseDecimal } from "@sparks/core";

/**
 * Langfuse sends costs as JSON numbers; the shortest round-trip form of the double is what the
 * JSON text said, so core's decimal parser recovers it exactly (0.1 stays 0.1, 1e-7 becomes
 * "0.0000001"). Anything else (null, NaN, strings) is "unknown cost".
 */
export function costToDecimal(value: unknown): string | null {
  if (typeof value !== "number" || !Number.isFinite(value)) return null;
  const text = String(value);
  // Without an exponent, the shortest form already is the plain decimal (no leading or trailing
  // zeros to trim), so the exact parse and format (bigints) is only needed for exponent forms.
  if (!text.includes("e")) return text;
  const parsed = parseDecimal(value);
  return parsed.ok ? formatDecimal(parsed.val) : null;
}
