import { CustomerRepository, type CustomerRow, executeRows } from "@sparks/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiHarness, createApiHarness } from "./api-harness";

/**
 * The report's `corrections` section (docs/corrections.md): billed = what Stripe's meters bill
 * (sent, not cancelled, events per tier line, rounded as Stripe rounds a line), credited = the
 * invoice credits and credit notes, net = billed − credited. The ledger rows are written as the
 * push writes them after a cancel and after a credit.
 */
let h: ApiHarness;
let c: CustomerRow;

async function sql(text: string): Promise<void> {
  await executeRows(h.db.database.db, text);
}

beforeAll(async () => {
  h = await createApiHarness();
  c = await new CustomerRepository(h.db.database.db).insert({
    auth0UserId: "auth0|corr",
    stripeCustomerId: "cus_corr",
    tier: "standard",
  });
  await sql(`insert into tier_history (customer_id, tier, effective_from, source)
             values ('${c.id}', 'standard', '2026-10-01T00:00:00Z', 'signup')`);
  // Trace t-soon: 1,200 Sparks sent, shrank to 200 within 24 h: cancelled, 200 resent.
  // Trace t-late: 1,200 Sparks sent, shrank to 200 after 24 h: 1,000 credited ($1.00).
  await sql(`insert into meter_events (identifier, customer_id, stripe_customer_id, usage_category, event_name,
               month, value, event_timestamp, status) values
             ('ai_tokens-t-soon', '${c.id}', 'cus_corr', 'ai_tokens', 'sparks_ai_tokens', '2026-11', 1200, '2026-11-18T10:00:00Z', 'cancelled'),
             ('fix-ai_tokens-x', '${c.id}', 'cus_corr', 'ai_tokens', 'sparks_ai_tokens', '2026-11', 200, '2026-11-18T10:00:00Z', 'sent'),
             ('ai_tokens-t-late', '${c.id}', 'cus_corr', 'ai_tokens', 'sparks_ai_tokens', '2026-11', 1200, '2026-11-18T10:00:00Z', 'sent')`);
  await sql(`insert into usage_items (trace_id, usage_category, quantity_revision, status, customer_id, month,
               occurred_at, quantity, unit, exact_sparks, sent_sparks, meter_event_id, tier, corrected_at)
             select t, 'ai_tokens', r, s, '${c.id}', '2026-11', '2026-11-18T10:00:00Z', q, 'tokens', e, ss,
                    (select id from meter_events where identifier = ev), 'standard', ca
             from (values
               ('t-soon', 0, 'sent', 12000, 1200, 1200, 'fix-ai_tokens-x', null::timestamptz),
               ('t-soon', 1, 'discrepancy', -10000, -1000, 0, null, '2026-11-18T14:00:00Z'),
               ('t-late', 0, 'sent', 12000, 1200, 1200, 'ai_tokens-t-late', null),
               ('t-late', 1, 'discrepancy', -10000, -1000, 0, null, '2026-11-20T12:00:00Z')
             ) as x(t, r, s, q, e, ss, ev, ca)`);
  await sql(`insert into usage_corrections (key, customer_id, usage_category, month, kind, status, sparks, cents,
               tier, trace_ids, item_ids, stripe_object_id) values
             ('k-soon', '${c.id}', 'ai_tokens', '2026-11', 'cancel', 'done', 1000, 0, 'standard', '{t-soon}', '{}', 'ai_tokens-t-soon'),
             ('k-late', '${c.id}', 'ai_tokens', '2026-11', 'invoice_credit', 'done', 1000, 100, 'standard', '{t-late}', '{}', 'ii_123')`);
}, 60_000);

afterAll(() => h?.close());

describe("GET /usage/report corrections", () => {
  it("shows billed, credited and net, each correction with its trace ids", async () => {
    const token = await h.auth0.mintToken({ sub: "auth0|corr" });
    const res = await h.app.inject({
      method: "GET",
      url: "/usage/report?month=2026-11",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(200);
    const r = res.json();
    expect(r.corrections).toMatchObject({
      billed_sparks: "1400",
      credited_sparks: "1000",
      cancelled_sparks: "1000",
      net_sparks: "400",
      usd: { billed: "1.40", credited: "1.00", net: "0.40" },
      pending: 0,
    });
    expect(r.corrections.entries).toEqual([
      expect.objectContaining({ kind: "cancel", sparks: 1000, usd: "0.00", trace_ids: ["t-soon"] }),
      expect.objectContaining({
        kind: "invoice_credit",
        sparks: 1000,
        usd: "1.00",
        trace_ids: ["t-late"],
        stripe_object_id: "ii_123",
      }),
    ]);
    // The ledger's exact total agrees: 2 × 200 Sparks remain, $0.40 at $0.001.
    expect(r.total_sparks).toBe("400");
    expect(r.usd.display.net).toBe("0.40");
  });

  it("counts a shrink not yet given back as pending", async () => {
    await sql(
      `update usage_items set corrected_at = null where trace_id = 't-late' and status = 'discrepancy'`,
    );
    const token = await h.auth0.mintToken({ sub: "auth0|corr" });
    const res = await h.app.inject({
      method: "GET",
      url: "/usage/report?month=2026-11",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.json().corrections.pending).toBe(1);
  });
});
