import { describe, expect, it } from "vitest";
import { DEFAULT_BILLING_CONFIG } from "../src/billing-config.defaults";
import { desiredItems, INVALID_CATEGORY, TOO_OLD_REASON, tierAt } from "../src/desired-items.derivation";
import type { CustomerTierRef, TierSegment } from "../src/ledger-item.types";
import { deriveUsage } from "../src/usage.derivation";
import type { TraceInput } from "../src/usage.types";
import {
  BILLED_STATUSES,
  billedStatusesSqlList,
  isBilledStatus,
  USAGE_ITEM_STATUSES,
} from "../src/usage-item-status.constants";

const now = new Date("2026-11-20T12:00:00Z");
const customer: CustomerTierRef = { id: "cus_1", tier: "standard" };
const segments: TierSegment[] = [
  {
    tier: "free",
    effectiveFrom: new Date("2026-11-01T00:00:00Z"),
    effectiveTo: new Date("2026-11-15T00:00:00Z"),
  },
  { tier: "standard", effectiveFrom: new Date("2026-11-15T00:00:00Z"), effectiveTo: null },
];

function trace(at: Date, metadata: Record<string, unknown>, tokens = 1_500): TraceInput {
  return {
    traceId: "t1",
    timestamp: at,
    userId: null,
    metadata,
    observations: [{ id: "g1", type: "GENERATION", metadata: null, usageDetails: { total: tokens } }],
  };
}

function rows(t: TraceInput) {
  return desiredItems(deriveUsage(t, DEFAULT_BILLING_CONFIG), t.timestamp, {
    config: DEFAULT_BILLING_CONFIG,
    now,
    customers: new Map([["cus_1", customer]]),
    tiers: new Map([["cus_1", segments]]),
    syncRunId: "sync_1",
  });
}

describe("desiredItems", () => {
  it("bills a known customer's item as pending at the tier in force at the trace's time", () => {
    const [row] = rows(trace(new Date("2026-11-10T10:00:00Z"), { customer_id: "cus_1" }));
    expect(row).toMatchObject({
      status: "pending",
      customerId: "cus_1",
      month: "2026-11",
      tier: "free",
      exactSparks: "150",
      quantity: "1500",
      reason: null,
      syncRunId: "sync_1",
    });
    expect(rows(trace(new Date("2026-11-16T10:00:00Z"), { customer_id: "cus_1" }))[0]?.tier).toBe("standard");
  });

  it("quarantines every item of a trace whose customer is unknown, keeping the amount at risk", () => {
    const [row] = rows(trace(new Date("2026-11-10T10:00:00Z"), { customer_id: "nobody" }));
    expect(row).toMatchObject({ status: "quarantined", customerId: null, exactSparks: "150" });
    expect(row?.reason).toMatch(/unknown customer 'nobody'/);
  });

  it("marks usage older than Stripe's 35 days as unbillable, not pending", () => {
    const [row] = rows(trace(new Date("2026-10-01T10:00:00Z"), { customer_id: "cus_1" }));
    expect(row).toMatchObject({ status: "unbillable", reason: TOO_OLD_REASON });
  });

  it("files a bad usage_category under the invalid category with no money at risk", () => {
    const out = rows(
      trace(new Date("2026-11-10T10:00:00Z"), { customer_id: "cus_1", usage_category: "gpu" }),
    );
    expect(out.find((r) => r.usageCategory === INVALID_CATEGORY)).toMatchObject({
      status: "quarantined",
      exactSparks: "0",
    });
  });

  it("falls back to the current tier outside every recorded segment", () => {
    expect(tierAt(customer, segments, new Date("2026-10-01T00:00:00Z"))).toBe("standard");
    expect(tierAt(customer, undefined, now)).toBe("standard");
  });
});

describe("BILLED_STATUSES", () => {
  it("are the usage-item statuses that are owed: not quarantined, not unbillable", () => {
    expect(USAGE_ITEM_STATUSES.filter(isBilledStatus)).toEqual([...BILLED_STATUSES]);
    expect(isBilledStatus("quarantined")).toBe(false);
    expect(isBilledStatus("unbillable")).toBe(false);
    expect(billedStatusesSqlList()).toBe("('pending', 'sending', 'sent', 'failed', 'discrepancy')");
  });
});
