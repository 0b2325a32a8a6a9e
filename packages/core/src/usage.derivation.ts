import type { BillingConfig } from "./billing-config.types";
import { type Decimal, formatDecimal, parseDecimal } from "./decimal.math";
import { toNanoSparks } from "./sparks.conversion";
import { sparksToNanoLimit } from "./sparks.limits";
import { formatSparks } from "./sparks.money";
import type { DerivedItem, DerivedUsage, QuarantinedItem, TraceInput } from "./usage.types";
import { isUsageCategory, USAGE_CATEGORIES, type UsageCategory } from "./usage-category.constants";

const DEFAULT_COST_CENTER = "default";

type Measured =
  | { kind: "none" }
  | { kind: "value"; quantity: Decimal }
  | { kind: "bad"; reason: string; rawValue: unknown };

interface FoundValue {
  value: unknown;
  where: string;
}

/** Human wording of an unexpected value for quarantine reasons. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "number") return String(value);
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

/**
 * Metadata key lookup: the trace's own metadata wins, then the first observation (in the order
 * given) that has it. null counts as absent, like a key that is not there.
 */
function findMetadata(trace: TraceInput, key: string): FoundValue | undefined {
  const own = trace.metadata?.[key];
  if (own !== undefined && own !== null) return { value: own, where: "trace metadata" };
  for (const observation of trace.observations) {
    const value = observation.metadata?.[key];
    if (value !== undefined && value !== null) {
      return { value, where: `metadata of observation ${JSON.stringify(observation.id)}` };
    }
  }
  return undefined;
}

/**
 * SPEC §2: a quantity may also be a string holding a plain non-negative decimal ("1500",
 * "0.25"), because Langfuse's v5 SDKs propagate metadata values only as strings. Signs,
 * exponents, units, spaces and words ("1e3", "1.5k", "NaN") stay bad values.
 */
const PLAIN_DECIMAL_STRING = /^\d+(?:\.\d+)?$/;

/**
 * Validates one quantity: a finite, non-negative JSON number or plain decimal string (whole
 * when `whole`).
 */
function checkQuantity(value: unknown, label: string, whole: boolean): Measured {
  if (typeof value === "string") {
    if (!PLAIN_DECIMAL_STRING.test(value)) {
      return {
        kind: "bad",
        reason: `${label} must be a number or a plain non-negative decimal string (like "1500" or "0.25"), got ${describeValue(value)}`,
        rawValue: value,
      };
    }
    const parsed = parseDecimal(value);
    if (!parsed.ok) return { kind: "bad", reason: `${label}: ${parsed.err.message}`, rawValue: value };
    if (whole && parsed.val.exponent < 0) {
      return {
        kind: "bad",
        reason: `${label} must be a whole number of tokens, got ${describeValue(value)}`,
        rawValue: value,
      };
    }
    return { kind: "value", quantity: parsed.val };
  }
  if (typeof value !== "number") {
    return {
      kind: "bad",
      reason: `${label} must be a number or a plain non-negative decimal string, got ${describeValue(value)}`,
      rawValue: value,
    };
  }
  if (!Number.isFinite(value)) {
    return {
      kind: "bad",
      reason: `${label} must be a finite number, got ${describeValue(value)}`,
      rawValue: value,
    };
  }
  if (value < 0) {
    return {
      kind: "bad",
      reason: `${label} must not be negative, got ${describeValue(value)}`,
      rawValue: value,
    };
  }
  if (whole && !Number.isInteger(value)) {
    return {
      kind: "bad",
      reason: `${label} must be a whole number of tokens, got ${describeValue(value)}`,
      rawValue: value,
    };
  }
  const parsed = parseDecimal(value);
  if (!parsed.ok) return { kind: "bad", reason: `${label}: ${parsed.err.message}`, rawValue: value };
  return { kind: "value", quantity: parsed.val };
}

function present(record: Record<string, unknown>, key: string): boolean {
  return record[key] !== undefined && record[key] !== null;
}

/** ai_tokens: Σ over GENERATION observations of usageDetails.total, else input + output. */
function measureTokens(trace: TraceInput): Measured {
  let total = 0n;
  let any = false;
  for (const observation of trace.observations) {
    if (observation.type !== "GENERATION" || !observation.usageDetails) continue;
    const usage = observation.usageDetails;
    const keys = present(usage, "total") ? ["total"] : ["input", "output"].filter((k) => present(usage, k));
    for (const key of keys) {
      const label = `usageDetails.${key} of GENERATION observation ${JSON.stringify(observation.id)}`;
      const checked = checkQuantity(usage[key], label, true);
      if (checked.kind !== "value") return checked;
      // Whole and non-negative by now, so the exponent is ≥ 0 and this is an exact integer.
      total += checked.quantity.coefficient * 10n ** BigInt(checked.quantity.exponent);
      any = true;
    }
  }
  return any ? { kind: "value", quantity: { coefficient: total, exponent: 0 } } : { kind: "none" };
}

function measureMetadataQuantity(trace: TraceInput, key: string): Measured {
  const found = findMetadata(trace, key);
  if (!found) return { kind: "none" };
  return checkQuantity(found.value, `${key} (${found.where})`, false);
}

function measure(trace: TraceInput, category: UsageCategory): Measured {
  switch (category) {
    case "ai_tokens":
      return measureTokens(trace);
    case "compute":
      return measureMetadataQuantity(trace, "compute_ms");
    case "storage":
      return measureMetadataQuantity(trace, "storage_gb_hours");
  }
}

function resolveCustomer(trace: TraceInput): { customerRef: string | null; problem: string | null } {
  const found = findMetadata(trace, "customer_id");
  if (found) {
    if (typeof found.value === "string" && found.value.trim() !== "") {
      return { customerRef: found.value.trim(), problem: null };
    }
    // A whole-number id (e.g. a numeric user id written as a JSON number, or a string that
    // Langfuse's metadata round trip JSON-parsed into a number) names the customer "42".
    if (typeof found.value === "number" && Number.isSafeInteger(found.value) && found.value >= 0) {
      return { customerRef: String(found.value), problem: null };
    }
    return {
      customerRef: null,
      problem: `customer_id (${found.where}) must be a non-empty string or a whole number, got ${describeValue(found.value)}`,
    };
  }
  if (typeof trace.userId === "string" && trace.userId.trim() !== "") {
    return { customerRef: trace.userId.trim(), problem: null };
  }
  const integration = findMetadata(trace, "sdk_integration")?.value;
  // Flowise chatflows drop the caller's overrideConfig.analytics.langFuse (userId, metadata)
  // silently unless the chatflow's Override Configuration is enabled (docs/flowise.md).
  const hint =
    typeof integration === "string" && integration.toLowerCase() === "flowise"
      ? "; the trace comes from Flowise: enable the chatflow's Override Configuration (Configuration → Security) so overrideConfig.analytics.langFuse.userId reaches Langfuse, see docs/flowise.md"
      : "";
  return {
    customerRef: null,
    problem: `missing customer_id: the trace has no customer_id metadata and no userId${hint}`,
  };
}

function optionalString(trace: TraceInput, key: string, warnings: string[]): string | null {
  const found = findMetadata(trace, key);
  if (!found) return null;
  if (typeof found.value === "string" && found.value.trim() !== "") return found.value.trim();
  warnings.push(
    `${key} (${found.where}) should be a non-empty string, got ${describeValue(found.value)}; ignored`,
  );
  return null;
}

/**
 * SPEC §2 as a pure function: the usage items of one trace, the ones that must be quarantined
 * and why, and whether the whole trace is unbillable. Zero quantities yield no item (nothing to
 * bill); every bad value yields a quarantined entry, so nothing is silently dropped.
 */
export function deriveUsage(trace: TraceInput, config: BillingConfig): DerivedUsage {
  const warnings: string[] = [];
  const { customerRef, problem } = resolveCustomer(trace);
  const costCenter = optionalString(trace, "cost_center", warnings) ?? DEFAULT_COST_CENTER;
  const tierHint = optionalString(trace, "subscription_tier", warnings);
  const items: DerivedItem[] = [];
  const quarantined: QuarantinedItem[] = [];
  const result: DerivedUsage = {
    traceId: trace.traceId,
    customerRef,
    costCenter,
    tierHint,
    items,
    quarantined,
    traceProblem: problem,
    warnings,
  };

  let categories: readonly UsageCategory[] = USAGE_CATEGORIES;
  const requested = findMetadata(trace, "usage_category");
  if (requested) {
    if (!isUsageCategory(requested.value)) {
      quarantined.push({
        category: null,
        reason: `usage_category (${requested.where}) is ${describeValue(requested.value)}, expected one of ${USAGE_CATEGORIES.join(", ")}`,
        rawValue: requested.value,
      });
      return result;
    }
    categories = [requested.value];
  }

  const maxNano = sparksToNanoLimit(config.maxSparksPerItem);
  for (const category of USAGE_CATEGORIES) {
    const measured = measure(trace, category);
    if (!categories.includes(category)) {
      if (measured.kind !== "none") {
        warnings.push(
          `usage_category is ${categories.join(", ")}, so ${category} usage on this trace is not billed`,
        );
      }
      continue;
    }
    if (measured.kind === "none") continue;
    if (measured.kind === "bad") {
      quarantined.push({ category, reason: measured.reason, rawValue: measured.rawValue });
      continue;
    }
    if (measured.quantity.coefficient === 0n) continue;
    const nanoSparks = toNanoSparks(category, measured.quantity, config);
    const quantity = formatDecimal(measured.quantity);
    const unit = config.rates[category].unit;
    if (nanoSparks > maxNano) {
      quarantined.push({
        category,
        reason: `${category} quantity ${quantity} ${unit} is worth ${formatSparks(nanoSparks)} Sparks, more than max_sparks_per_item (${config.maxSparksPerItem})`,
        rawValue: quantity,
      });
      continue;
    }
    items.push({ category, quantity, unit, nanoSparks });
  }
  return result;
}
