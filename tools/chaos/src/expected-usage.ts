import { DEFAULT_BILLING_CONFIG, deriveUsage, monthOf, NANO_PER_SPARK, type TraceInput } from "@sparks/core";
import type { GeneratedTraceRecord, StoredMeterEvent } from "@sparks/emulators";
import { pickBillingMetadata } from "@sparks/langfuse";
import { meterEventName } from "@sparks/stripe";

export interface ChaosCustomer {
  ref: string;
  stripeId: string;
}

export interface ExpectedUsage {
  /** `${stripeCustomerId}|${eventName}|${YYYY-MM}` → whole Sparks: floor(Σ exact) of the group. */
  wholeByGroup: Map<string, number>;
  /** identifier → group key, for every good item. */
  identifiers: Map<string, string>;
}

/**
 * The exact rule computed from the generated traffic alone (core's `deriveUsage` on each trace
 * as Langfuse holds it), independent of the pipeline: the answer Stripe must end up with.
 */
export function expectedUsage(
  records: readonly GeneratedTraceRecord[],
  customers: readonly ChaosCustomer[],
): ExpectedUsage {
  const byRef = new Map(customers.map((c) => [c.ref, c]));
  const exact = new Map<string, bigint>();
  const identifiers = new Map<string, string>();
  for (const record of records) {
    if (record.defect) continue;
    const input: TraceInput = {
      traceId: record.trace.id,
      timestamp: new Date(record.trace.timestamp),
      userId: record.trace.userId ?? null,
      metadata: pickBillingMetadata(record.trace.metadata),
      observations: record.observations.map((o) => ({
        id: o.id,
        type: o.type,
        metadata: pickBillingMetadata(o.metadata),
        usageDetails: (o.usageDetails as Record<string, unknown> | undefined) ?? null,
      })),
    };
    const derived = deriveUsage(input, DEFAULT_BILLING_CONFIG);
    const customer = derived.customerRef ? byRef.get(derived.customerRef) : undefined;
    if (!customer) throw new Error(`good trace ${record.trace.id} names no chaos customer`);
    const month = monthOf(new Date(record.trace.timestamp));
    for (const item of derived.items) {
      const key = groupKey(customer.stripeId, meterEventName("sparks", item.category), month);
      exact.set(key, (exact.get(key) ?? 0n) + item.nanoSparks);
      identifiers.set(`${item.category}-${record.trace.id}`, key);
    }
  }
  const wholeByGroup = new Map<string, number>();
  for (const [key, nano] of exact) wholeByGroup.set(key, Number(nano / NANO_PER_SPARK));
  return { wholeByGroup, identifiers };
}

export function groupKey(stripeId: string, eventName: string, month: string): string {
  return `${stripeId}|${eventName}|${month}`;
}

/** What Stripe accepted, per customer, meter and month of the event's timestamp. */
export function stripeByGroup(events: readonly StoredMeterEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) {
    if (e.cancelled) continue;
    const key = groupKey(e.customer, e.eventName, monthOf(new Date(e.timestamp * 1000)));
    out.set(key, (out.get(key) ?? 0) + e.value);
  }
  return out;
}
