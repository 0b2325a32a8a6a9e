import { compareInvoices } from "@sparks/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  centsOf,
  createInvoiceHarness,
  type HarnessCustomer,
  type InvoiceHarness,
  type WrittenTrace,
} from "./invoice.harness";

/**
 * Issue 14, shrinks given back (docs/corrections.md), through a whole month end with the month
 * close holding and releasing the drafts: a quantity lowered within 24 h is cancelled and resent,
 * after 24 h credited on the coming invoice (also when the volume discount applies), after the
 * invoice was finalized credited by a credit note. The finalized invoice (less its credit notes)
 * equals the report and an independent calculation from the traces as they finally read.
 */
const MIN = 60_000;
const NOV = "2026-11";
const at = (iso: string) => Date.parse(iso);

let h: InvoiceHarness;
let soon: HarnessCustomer; // 12,000 tokens → 2,000 within 24 h
let late: HarnessCustomer; // 12,000 tokens → 2,000 after 24 h
let big: HarnessCustomer; // 120,000 tokens → 105,000 after 24 h: still 5% off, on the net usage
let final: HarnessCustomer; // 12,000 tokens → 2,000 after the invoice was finalized
const written: Record<string, WrittenTrace> = {};

/** Langfuse now shows fewer tokens for the trace; the independent calculation follows. */
function shrink(t: WrittenTrace, tokens: number): void {
  h.langfuse.store.addObservations(t.id, [
    {
      id: `${t.id}-gen`,
      traceId: t.id,
      type: "GENERATION",
      startTime: t.at,
      endTime: t.at,
      usageDetails: { input: tokens - Math.floor(tokens / 4), output: Math.floor(tokens / 4), total: tokens },
      metadata: { customer_id: t.customerId },
    },
  ]);
  t.tokens = tokens;
}

let resyncs = 0;
/** A re-read of an old window (as `sparks backfill` does), then every push and correction done. */
async function resync(fromMs: number): Promise<void> {
  const syncId = `corr_resync_${++resyncs}`;
  await h.workerDeps.queues.add(
    "syncUsage",
    {
      syncId,
      trigger: "manual",
      from: new Date(fromMs).toISOString(),
      to: new Date(h.clock.ms).toISOString(),
    },
    { jobId: syncId },
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [run] = await h.rows(`select status from sync_runs where id = '${syncId}'`);
    const [open] = await h.rows(
      `select (select count(*) from usage_items where status in ('pending', 'sending')
                 or (status = 'discrepancy' and corrected_at is null))
            + (select count(*) from usage_corrections where status = 'pending') as n`,
    );
    if (run?.status === "completed" && Number(open?.n) === 0) break;
    if (Date.now() > deadline) throw new Error(`resync ${syncId} did not settle`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await h.deliverStripeEvents();
}

async function creditNotesCents(invoiceId: string): Promise<bigint> {
  const notes = await h.stripe.creditNotes.list({ invoice: invoiceId, limit: 100 });
  return notes.data.reduce((a, n) => a + BigInt(n.total), 0n);
}

async function corrections(c: HarnessCustomer) {
  return h.rows(
    `select kind, status, sparks, cents, trace_ids from usage_corrections where customer_id = '${c.id}' order by id`,
  );
}

beforeAll(async () => {
  h = await createInvoiceHarness({ startMs: at("2026-11-01T00:01:00Z") });
  soon = await h.signup("corr-soon", "standard");
  late = await h.signup("corr-late", "standard");
  big = await h.signup("corr-big", "standard");
  final = await h.signup("corr-final", "standard");
  written.big = h.trace(big, new Date("2026-11-05T10:00:00Z"), 120_000); // 12,000 Sparks
  written.soon = h.trace(soon, new Date("2026-11-18T10:00:00Z"), 12_000); // 1,200 Sparks
  written.late = h.trace(late, new Date("2026-11-18T10:00:00Z"), 12_000);
  await h.advanceTo(at("2026-11-18T12:00:00Z"));
  await h.sync();
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe("a shrink before the month end", () => {
  it("within 24 h: the meter event is cancelled and the right value resent", async () => {
    await h.advanceTo(at("2026-11-18T14:00:00Z"));
    shrink(written.soon as WrittenTrace, 2_000);
    await resync(at("2026-11-18T00:00:00Z"));
    expect(await corrections(soon)).toEqual([
      expect.objectContaining({ kind: "cancel", status: "done", sparks: "1000", cents: "0" }),
    ]);
  });

  it("after 24 h: a credit the period's invoice takes in (also under the volume discount)", async () => {
    await h.advanceTo(at("2026-11-20T12:00:00Z"));
    shrink(written.late as WrittenTrace, 2_000);
    shrink(written.big as WrittenTrace, 105_000); // 10,500 Sparks: still over 10,000
    await resync(at("2026-11-01T00:00:00Z"));
    expect(await corrections(late)).toEqual([
      expect.objectContaining({ kind: "invoice_credit", status: "done", sparks: "1000", cents: "100" }),
    ]);
    expect(await corrections(big)).toEqual([
      expect.objectContaining({ kind: "invoice_credit", status: "done", sparks: "1500", cents: "150" }),
    ]);
  });
});

describe("November's month end", () => {
  beforeAll(async () => {
    written.final = h.trace(final, new Date("2026-11-25T10:00:00Z"), 12_000);
    await h.advanceTo(at("2026-11-25T12:00:00Z"));
    await h.sync();
    await h.monthEnd(NOV);
  }, 240_000);

  it("finalizes every invoice at the report's net and the traces' price, to the cent", async () => {
    for (const c of [soon, late, big]) {
      const invoice = await h.invoiceFor(c, NOV);
      expect(invoice?.status, c.id).toBe("open");
      const expected = h.expectedFromTraces(c, NOV);
      expect(BigInt(invoice?.total ?? -1), c.id).toBe(expected.totalCents);
      const report = await h.report(c, NOV);
      expect(centsOf(report.usd.net), c.id).toBe(expected.totalCents);
      const corr = report.corrections as { usd: { billed: string; credited: string; net: string } };
      expect(centsOf(corr.usd.billed) - centsOf(corr.usd.credited), c.id).toBe(centsOf(corr.usd.net));
    }
    // 10,500 Sparks: $10.50 − 5% ($0.53, on the usage net of the credit) = $9.97.
    expect(h.expectedFromTraces(big, NOV).totalCents).toBe(997n);
    expect(BigInt((await h.invoiceFor(big, NOV))?.total ?? -1)).toBe(997n);
  });

  it("after finalization: a credit note, and the invoice less its credit notes is the truth", async () => {
    const invoice = await h.invoiceFor(final, NOV);
    expect(invoice?.status).toBe("open");
    expect(invoice?.total).toBe(120);
    await h.advanceTo(at("2026-12-01T02:00:00Z"));
    shrink(written.final as WrittenTrace, 2_000);
    await resync(at("2026-11-25T00:00:00Z"));
    await resync(at("2026-11-25T00:00:00Z")); // replayed: credited once
    expect(await corrections(final)).toEqual([
      expect.objectContaining({ kind: "credit_note", status: "done", sparks: "1000", cents: "100" }),
    ]);
    const credited = await creditNotesCents(invoice?.id ?? "");
    const expected = h.expectedFromTraces(final, NOV);
    expect(BigInt(invoice?.total ?? -1) - credited).toBe(expected.totalCents);
    const report = await h.report(final, NOV);
    const corr = report.corrections as { usd: { billed: string; credited: string; net: string } };
    expect(corr.usd).toEqual({ billed: "1.20", credited: "1.00", net: "0.20" });
    expect(centsOf(corr.usd.net)).toBe(expected.totalCents);
    // Reconcile compares the invoice as issued with the ledger's invoice as issued; the credit
    // note is the correction beside it, so no false mismatch is reported.
    const cmp = await compareInvoices({ config: h.config, database: h.db.database }, NOV);
    expect(cmp.rows.find((r) => r.customer_id === final.id)).toMatchObject({
      invoice_total: "1.20",
      ledger_net: "1.20",
      drift: "0.00",
      matches_ledger: true,
    });
  });
});

void MIN;
