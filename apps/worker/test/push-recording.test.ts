import { executeRows, StripeAuditRepository, UsageItemRepository } from "@sparks/db";
import { type GeneratedTraceRecord, generateFlowiseTraffic } from "@sparks/emulators";
import { createStripeClient, MeterEventSender } from "@sparks/stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushMeterEvents, runSync } from "../src";
import {
  type CustomerFixture,
  createHarness,
  expectedTotals,
  type Harness,
  stripeTotals,
} from "./pipeline.harness";

/**
 * The push records what Stripe accepted per batch (one transaction for the batch, not one per
 * event). These tests pin down what that must never cost: a send failing midway still records
 * every event accepted before it, and a push that died before recording anything does not send
 * accepted events again — even after Stripe's 24 h identifier memory has passed, when Stripe
 * itself would count them twice.
 */
const HOUR = 3_600_000;
const now = Date.now();
let stripeClockOffset = 0;
let h: Harness;
let records: GeneratedTraceRecord[];
let fixtures: CustomerFixture[];

async function statuses(): Promise<Record<string, number>> {
  const rows = await executeRows<{ status: unknown; n: unknown }>(
    h.deps.database.db,
    "select status, count(*) as n from meter_events group by status",
  );
  return Object.fromEntries(rows.map((r) => [String(r.status), Number(r.n)]));
}

async function groups() {
  return new UsageItemRepository(h.deps.database.db).groupsWithWork();
}

/** Calls Stripe the group's way, but makes every call from the `failFrom`-th on a 500. */
function senderFailingFrom(failFrom: number): MeterEventSender {
  let calls = 0;
  const audit = new StripeAuditRepository(h.deps.database.db);
  const stripe = createStripeClient({
    secretKey: h.stripeEmulator.secretKey,
    apiBase: { host: h.stripeEmulator.host, port: h.stripeEmulator.port, protocol: "http" },
  });
  return new MeterEventSender(stripe, {
    acquire: async () => {
      calls++;
      if (calls === failFrom) {
        h.stripeEmulator.faults.inject({
          kind: "server_error",
          count: 10_000,
          path: "/v1/billing/meter_events",
        });
      }
    },
    onCall: async (entry) => {
      await audit.record({
        operation: entry.operation,
        identifier: entry.identifier,
        request: entry.request,
        response: { outcome: entry.outcome, request_id: entry.requestId },
        statusCode: entry.statusCode,
        durationMs: entry.durationMs,
        error: entry.error,
      });
    },
  });
}

beforeAll(async () => {
  h = await createHarness({
    aggregation: "off",
    maxRps: 1_000,
    stripeRateLimit: 0,
    stripeNow: () => Date.now() + stripeClockOffset,
    pipeline: { inlineRetries: 0, pushBatch: 50 },
  });
  records = generateFlowiseTraffic({
    traces: 60,
    customers: 1,
    from: new Date(now - 2 * HOUR),
    to: new Date(now - HOUR),
    seed: 11,
    badShare: 0,
  });
  h.langfuse.store.addMany(records);
  fixtures = await h.addCustomers(["cust_0001"]);
  await runSync(h.deps, {
    syncId: "sync_recording",
    from: new Date(now - 3 * HOUR).toISOString(),
    to: new Date(now - HOUR / 2).toISOString(),
    customerId: null,
    trigger: "manual",
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe("push bookkeeping per batch", () => {
  it("records every event Stripe accepted before a send failed midway, and resends none of them", async () => {
    const work = await groups();
    expect(work.length).toBeGreaterThan(0);
    const [group] = work;
    if (!group) throw new Error("no group");
    const failing = { ...h.deps, stripe: { sender: senderFailingFrom(6) } };
    await expect(pushMeterEvents(failing, group)).rejects.toThrow();
    // Five calls went through before the failure: all five are recorded as sent, in the ledger too.
    expect((await statuses()).sent).toBe(5);
    const sentItems = await executeRows<{ n: unknown }>(
      h.deps.database.db,
      "select count(*) as n from usage_items where status = 'sent'",
    );
    expect(Number(sentItems[0]?.n)).toBe(5);
    expect(h.stripeEmulator.recording.meterEvents()).toHaveLength(5);

    h.stripeEmulator.faults.clear();
    for (const g of await groups()) await pushMeterEvents(h.deps, g);
    // Each identifier reached Stripe exactly once (a resend of the five would be answered as a
    // duplicate, so count the calls that Stripe accepted as new events).
    const accepted = h.stripeEmulator.recording.filter({ path: "/v1/billing/meter_events", status: 200 });
    const events = h.stripeEmulator.recording.meterEvents();
    expect(new Set(events.map((e) => e.identifier)).size).toBe(events.length);
    expect(accepted.length).toBe(events.length);
    const expected = expectedTotals(records, fixtures);
    expect(stripeTotals(h.stripeEmulator)).toEqual(expected.wholeByMeter);
  });

  it("does not send again, even after Stripe's 24 h memory, what the audit log says Stripe accepted", async () => {
    // A push that died after Stripe's answers but before its bookkeeping: events back to
    // pending, their items back to sending — while Stripe holds them.
    const victims = await executeRows<{ id: unknown; identifier: unknown }>(
      h.deps.database.db,
      "select id, identifier from meter_events where status = 'sent' order by id limit 8",
    );
    expect(victims).toHaveLength(8);
    const ids = victims.map((v) => Number(v.id));
    await executeRows(
      h.deps.database.db,
      `update meter_events set status = 'pending', sent_at = null where id in (${ids.join(",")})`,
    );
    await executeRows(
      h.deps.database.db,
      `update usage_items set status = 'sending', sent_at = null where meter_event_id in (${ids.join(",")})`,
    );
    // One of them has no audit row saying Stripe took it: that one must be sent again.
    const resent = String(victims[0]?.identifier);
    await executeRows(h.deps.database.db, `delete from stripe_audit_log where identifier = '${resent}'`);
    const before = stripeTotals(h.stripeEmulator);
    const eventsBefore = h.stripeEmulator.recording.meterEvents().length;
    stripeClockOffset = 25 * HOUR; // Stripe no longer remembers any of these identifiers.

    for (const g of await groups()) await pushMeterEvents(h.deps, g);

    expect(await statuses()).toEqual({ sent: expect.any(Number) });
    const pending = await executeRows<{ n: unknown }>(
      h.deps.database.db,
      "select count(*) as n from usage_items where status in ('pending', 'sending')",
    );
    expect(Number(pending[0]?.n)).toBe(0);
    // Exactly one event reached Stripe again: the one without an accepted audit row.
    const events = h.stripeEmulator.recording.meterEvents();
    expect(events.length).toBe(eventsBefore + 1);
    expect(events.filter((e) => e.identifier === resent)).toHaveLength(2);
    const recovered = await executeRows<{ n: unknown }>(
      h.deps.database.db,
      `select count(*) as n from meter_events where stripe_response->>'outcome' = 'accepted_per_audit_log'`,
    );
    expect(Number(recovered[0]?.n)).toBe(7);
    const after = stripeTotals(h.stripeEmulator);
    const grew = [...after].filter(([k, v]) => v !== before.get(k));
    expect(grew).toHaveLength(1);
  });
});
