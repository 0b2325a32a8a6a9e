import { describe, expect, it } from "vitest";
import { planLedger } from "../src/ledger.planner";
import type { LedgerEntry, LedgerEntryWrite } from "../src/ledger-item.types";
import { buildTraceInput } from "../src/trace-input.builder";

const at = new Date("2026-11-20T10:00:00Z");

function want(overrides: Partial<LedgerEntryWrite> = {}): LedgerEntryWrite {
  return {
    traceId: "t1",
    usageCategory: "ai_tokens",
    quantityRevision: 0,
    status: "pending",
    customerId: "cus_a",
    customerRef: "cus_a",
    month: "2026-11",
    occurredAt: at,
    quantity: "1500",
    unit: "tokens",
    rawValue: null,
    exactSparks: "150",
    reason: null,
    costCenter: "default",
    tier: "standard",
    tierHint: null,
    syncRunId: "sync_1",
    ...overrides,
  };
}

function stored(overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  const w = want();
  return {
    id: 1,
    traceId: w.traceId,
    usageCategory: w.usageCategory,
    quantityRevision: 0,
    status: "pending",
    customerId: w.customerId,
    customerRef: w.customerRef,
    month: w.month,
    occurredAt: at,
    quantity: "1500",
    unit: "tokens",
    rawValue: null,
    exactNano: 150_000_000_000n,
    reason: null,
    meterEventId: null,
    costCenter: "default",
    tier: "standard",
    tierHint: null,
    ...overrides,
  };
}

describe("planLedger", () => {
  it("inserts a new item and leaves an identical one alone", () => {
    expect(planLedger([], [want()]).inserts).toHaveLength(1);
    const same = planLedger([stored()], [want()]);
    expect([same.inserts, same.updates, same.deletes]).toEqual([[], [], []]);
  });

  it("rewrites an unsent item in place when Langfuse changed it (latest state wins)", () => {
    const plan = planLedger([stored()], [want({ quantity: "2000", exactSparks: "200" })]);
    expect(plan.inserts).toEqual([]);
    expect(plan.updates).toEqual([{ id: 1, row: want({ quantity: "2000", exactSparks: "200" }) }]);
  });

  it("adds a positive correction after sending, against everything already locked", () => {
    const sent = stored({ status: "sent", meterEventId: 9 });
    const plan = planLedger([sent], [want({ quantity: "2000", exactSparks: "200" })]);
    expect(plan.inserts).toEqual([
      expect.objectContaining({ quantityRevision: 1, quantity: "500", exactSparks: "50", status: "pending" }),
    ]);
    expect(plan.counts.corrections).toBe(1);
  });

  it("records a shrink after sending as a negative discrepancy, never a pending item", () => {
    const sent = stored({ status: "sent", meterEventId: 9 });
    const plan = planLedger([sent], [want({ quantity: "1000", exactSparks: "100" })]);
    expect(plan.inserts).toEqual([
      expect.objectContaining({
        quantityRevision: 1,
        quantity: "-500",
        exactSparks: "-50",
        status: "discrepancy",
      }),
    ]);
  });

  it("updates an open correction instead of stacking a second one, and drops it when the delta vanishes", () => {
    const sent = stored({ status: "sent", meterEventId: 9 });
    const open = stored({ id: 2, quantityRevision: 1, quantity: "500", exactNano: 50_000_000_000n });
    const grown = planLedger([sent, open], [want({ quantity: "2500", exactSparks: "250" })]);
    expect(grown.updates).toEqual([
      { id: 2, row: expect.objectContaining({ quantityRevision: 1, quantity: "1000", exactSparks: "100" }) },
    ]);
    expect(planLedger([sent, open], [want()]).deletes).toEqual([2]);
  });

  it("removes an unsent item the trace no longer yields, but never a sent one", () => {
    expect(planLedger([stored()], []).deletes).toEqual([1]);
    const sent = planLedger([stored({ status: "sent", meterEventId: 9 })], []);
    expect(sent.deletes).toEqual([]);
    expect(sent.inserts[0]).toMatchObject({ status: "discrepancy", exactSparks: "-150" });
  });
});

describe("buildTraceInput", () => {
  const row = (id: string, type: string, ms: number, extra: object = {}) => ({
    observationId: id,
    traceId: "t1",
    type,
    startTime: new Date(at.getTime() + ms),
    userId: null,
    isRoot: false,
    usageDetails: null,
    metadata: null,
    costUsd: null,
    ...extra,
  });

  it("takes trace-level fields from the v1 TRACE row, else the root observation", () => {
    const v1 = buildTraceInput("t1", [
      row("g", "GENERATION", 5, { usageDetails: { total: 10 } }),
      row("trace:t1", "TRACE", 0, { userId: "u1", metadata: { customer_id: "c1" } }),
    ]);
    expect(v1).toMatchObject({ userId: "u1", metadata: { customer_id: "c1" }, timestamp: at });
    expect(v1.observations.map((o) => o.id)).toEqual(["g"]);
    const v2 = buildTraceInput("t1", [
      row("g", "GENERATION", 5, { metadata: { customer_id: "c2" } }),
      row("root", "CHAIN", 1, { isRoot: true, userId: "u2", metadata: { customer_id: "c3" } }),
    ]);
    expect(v2).toMatchObject({
      userId: "u2",
      metadata: { customer_id: "c3" },
      timestamp: new Date(at.getTime() + 1),
    });
  });
});

describe("planLedger and the late-usage trigger", () => {
  it("does not rewrite a pending row the database re-filed under the next open month", () => {
    const refiled = stored({
      month: "2026-12",
      occurredAt: new Date("2026-12-01T00:00:00Z"),
      reason: "late usage from 2026-11 billed in 2026-12 (occurred 2026-11-20T10:00:00Z)",
    });
    const plan = planLedger([refiled], [want()]);
    expect([plan.inserts, plan.updates, plan.deletes]).toEqual([[], [], []]);
  });
});
