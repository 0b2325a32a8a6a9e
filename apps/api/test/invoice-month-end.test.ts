import { CustomerRepository } from "@sparks/db";
import { compareInvoices, releaseMonthInvoice } from "@sparks/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { centsOf, createInvoiceHarness, type HarnessCustomer, type InvoiceHarness } from "./invoice.harness";

/**
 * Issue 14, "the invoice is the truth": for each scenario the FINALIZED Stripe invoice's total
 * equals `/usage/report`'s net to the cent, and both equal an independent calculation from the
 * traces. One timeline (October → November 2026) carries every scenario side by side, so a
 * stuck customer really sits beside healthy ones at the same month end.
 */

const MIN = 60_000;
const HOUR = 60 * MIN;
const OCT = "2026-10";
const NOV = "2026-11";
const octStart = Date.parse("2026-10-01T00:00:00Z");
const novStart = Date.parse("2026-11-01T00:00:00Z");
const decStart = Date.parse("2026-12-01T00:00:00Z");

let h: InvoiceHarness;
let midMonth: HarnessCustomer; // signs up Oct 15: 6,000 + 6,000 Sparks → 5% off
let lastMinute: HarnessCustomer; // 9,990 Sparks + 20 at 23:55 on Oct 31
let healthy: HarnessCustomer; // beside the stuck one
let late: HarnessCustomer; // usage of October found after its October invoice was final
let stuckId = "";
let lateFoundAt = 0;

async function expectInvoiceIsTheTruth(
  customer: HarnessCustomer,
  month: string,
  lateAfter?: Record<string, Date>,
) {
  const invoice = await h.invoiceFor(customer, month);
  expect(invoice, `${month} invoice of ${customer.id}`).not.toBeNull();
  expect(invoice?.status).toBe("open"); // finalized
  const report = await h.report(customer, month);
  const expected = h.expectedFromTraces(customer, month, lateAfter);
  expect(BigInt(invoice?.total ?? -1)).toBe(expected.totalCents);
  expect(centsOf(report.usd.net)).toBe(expected.totalCents);
  const reported = report.invoice as {
    id: string;
    status: string;
    total: string;
    matches_ledger: boolean;
  } | null;
  expect(reported).toMatchObject({ id: invoice?.id, status: "open", matches_ledger: true });
  expect(centsOf(reported?.total)).toBe(expected.totalCents);
  return { invoice, report, expected };
}

beforeAll(async () => {
  h = await createInvoiceHarness({ startMs: octStart + MIN });
  lastMinute = await h.signup("last-minute");
  healthy = await h.signup("healthy");
  late = await h.signup("late");
  // A customer Sparks knows but Stripe does not (no Stripe id): its usage can never be sent.
  const stuck = await new CustomerRepository(h.db.database.db).insert({ id: "cust_stuck", tier: "standard" });
  stuckId = stuck.id;
  await h.advanceTo(Date.parse("2026-10-15T09:00:00Z"));
  midMonth = await h.signup("mid-month");

  h.trace(midMonth, new Date("2026-10-20T10:00:00Z"), 60_000); // 6,000 Sparks
  h.trace(midMonth, new Date("2026-10-25T10:00:00Z"), 60_000); // 6,000 Sparks
  h.trace(lastMinute, new Date("2026-10-10T10:00:00Z"), 99_900); // 9,990 Sparks
  // 20 Sparks at 23:55, visible in Langfuse 10 minutes later: after Stripe cut the draft.
  h.trace(lastMinute, new Date("2026-10-31T23:55:00Z"), 200, new Date("2026-11-01T00:05:00Z"));
  h.trace(healthy, new Date("2026-10-12T08:00:00Z"), 10_005); // 1,000.5 Sparks → 1,000 whole
  h.trace(stuckId, new Date("2026-10-12T08:00:00Z"), 40_000); // 4,000 Sparks nobody can send
  h.trace(late, new Date("2026-10-05T08:00:00Z"), 50_000); // 5,000 Sparks
  // 3,000 Sparks of October that Langfuse shows only at 03:00 on Nov 1, after the close.
  lateFoundAt = Date.parse("2026-11-01T03:00:00Z");
  h.trace(late, new Date("2026-10-31T23:50:00Z"), 30_000, new Date(lateFoundAt));
  h.trace(late, new Date("2026-11-10T08:00:00Z"), 70_010); // 7,001 Sparks: with the late 3,000 → 10,001

  await h.advanceTo(Date.parse("2026-10-31T12:00:00Z"));
  await h.sync();
  await h.monthEnd(OCT);
}, 240_000);

afterAll(async () => {
  await h?.close();
});

describe("October's month end", () => {
  it("mid-month signup: one invoice for Oct 15 – Nov 1 with the whole month's discount", async () => {
    const { invoice, expected } = await expectInvoiceIsTheTruth(midMonth, OCT);
    expect(expected.totalCents).toBe(1140n); // 12,000 Sparks: $12.00 − 5%
    expect(invoice?.period_start).toBe(Math.floor(Date.parse("2026-10-15T09:00:00Z") / 1000));
  });

  it("usage at 23:55 on the last day is on the invoice, and so is the discount it unlocks", async () => {
    const { invoice, expected } = await expectInvoiceIsTheTruth(lastMinute, OCT);
    expect(expected.totalCents).toBe(951n); // 10,010 Sparks: $10.01 − $0.50
    const lines = await h.stripe.invoices.listLineItems(invoice?.id ?? "", { limit: 100 });
    const discounts = lines.data.filter((l) => l.description?.startsWith("Volume discount"));
    expect(discounts.map((l) => l.amount)).toEqual([-50]);
  });

  it("a stuck customer never holds a healthy one; it is alerted with the money at risk", async () => {
    await expectInvoiceIsTheTruth(healthy, OCT);
    const rows = await h.rows(
      `select customer_id, status from customer_month_closes where month = '${OCT}' order by customer_id`,
    );
    expect(rows.find((r) => r.customer_id === stuckId)?.status ?? "open").toBe("open");
    expect(rows.find((r) => r.customer_id === healthy.id)?.status).toBe("closed");
    const alerts = await h.workerDeps.queues
      .queue("alerts")
      .getJobs(["completed", "waiting", "active", "failed"]);
    const stuck = alerts.find((j) => j.data.kind === "month_close_stuck" && j.data.customerId === stuckId);
    expect(stuck?.data.title).toContain("4.00 USD at risk");
  });

  it("reconcile compares each month-end invoice with the ledger", async () => {
    const cmp = await compareInvoices({ config: h.config, database: h.db.database }, OCT);
    const row = (id: string) => cmp.rows.find((r) => r.customer_id === id);
    for (const c of [midMonth, lastMinute, healthy, late]) {
      expect(row(c.id)).toMatchObject({
        month_status: "closed",
        invoice_status: "open",
        matches_ledger: true,
        drift: "0.00",
      });
    }
    expect(row(lastMinute.id)?.invoice_total).toBe("9.51");
    // The stuck customer has usage worth $4.00 and no invoice anywhere: a mismatch reconcile names.
    expect(row(stuckId)).toMatchObject({
      month_status: "open",
      month_sparks: "4000",
      invoice_id: null,
      matches_ledger: false,
    });
    expect(cmp.mismatches).toBe(1);
  });

  it("refuses to release an invoice of a month that is not closed for its customer, changing nothing", async () => {
    const before = await h.invoiceFor(late, NOV);
    const outcome = await releaseMonthInvoice(h.workerDeps, late.id, NOV);
    expect(outcome).toMatchObject({ action: "refused" });
    expect(String((outcome as { reason: string }).reason)).toContain(`month ${NOV} is not closed`);
    expect(await h.invoiceFor(late, NOV)).toEqual(before);
  });

  it("ignores a repeated invoice.created of an invoice that is already final", async () => {
    const invoice = await h.invoiceFor(healthy, OCT);
    const event = h.emu.store.events.find(
      (e) => e.type === "invoice.created" && (e.data.object as { id: string }).id === invoice?.id,
    );
    expect(event).toBeDefined();
    h.emu.store.emit("invoice.created", event?.data.object);
    await h.deliverStripeEvents();
    const rows = await h.rows(
      `select status, error from webhook_events where type = 'invoice.created' order by created desc, received_at desc limit 1`,
    );
    expect(String(rows[0]?.error)).toContain("not a draft");
    const after = await h.invoiceFor(healthy, OCT);
    expect(after?.total).toBe(invoice?.total);
    const lines = await h.stripe.invoices.listLineItems(after?.id ?? "", { limit: 100 });
    expect(lines.data.filter((l) => l.description?.startsWith("Volume discount")).length).toBeLessThanOrEqual(
      1,
    );
  });
});

describe("late usage and November's month end", () => {
  it("usage found after October's invoice was final is billed in November, labelled with its month", async () => {
    await expectInvoiceIsTheTruth(late, OCT, { [OCT]: new Date(novStart + 16 * MIN) });
    await h.advanceTo(lateFoundAt + 30 * MIN);
    await h.sync();
    const rows = await h.rows(
      `select month, status, reason, late_from from usage_items where customer_id = '${late.id}' and late_from is not null`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ month: NOV, status: "sent" });
    expect(String(rows[0]?.reason)).toContain(`late usage from ${OCT} billed in ${NOV}`);
    const october = await h.report(late, OCT);
    expect(october.billed_late).toEqual([expect.objectContaining({ billed_in: NOV, sparks: "3000" })]);
  });

  it("the discount threshold crossed only by late usage applies to the invoice that bills it", async () => {
    await h.advanceTo(decStart - 12 * HOUR);
    await h.sync();
    await h.monthEnd(NOV);
    const { expected, report } = await expectInvoiceIsTheTruth(late, NOV, {
      [OCT]: new Date(novStart + 16 * MIN),
    });
    expect(expected.sparks).toBe(10_001n);
    expect(expected.totalCents).toBe(950n); // $10.00 − $0.50
    expect(report.late_usage).toEqual([expect.objectContaining({ from_month: OCT, sparks: "3000" })]);
    // The November invoice says which of its usage is October's.
    const invoice = await h.invoiceFor(late, NOV);
    const lines = await h.stripe.invoices.listLineItems(invoice?.id ?? "", { limit: 100 });
    expect(lines.data.map((l) => l.description)).toContain(
      `Includes 3000 Sparks of ${OCT} usage received after its invoice was final`,
    );
  });
});

describe("after the release", () => {
  it("the report's invoice status follows Stripe when the invoice is paid", async () => {
    const invoice = await h.invoiceFor(midMonth, OCT);
    expect(invoice?.status).toBe("open");
    h.emu.store.payInvoice(invoice?.id ?? "");
    await h.deliverStripeEvents();
    const report = await h.report(midMonth, OCT);
    expect(report.invoice).toMatchObject({ id: invoice?.id, status: "paid", matches_ledger: true });
  });
});

describe("an invoice finalized by hand", () => {
  it("reconcile names a finalized invoice that differs from the ledger, with its drift", async () => {
    const DEC = "2026-12";
    const janStart = Date.parse("2027-01-01T00:00:00Z");
    h.trace(late, new Date("2026-12-10T08:00:00Z"), 20_000); // 2,000 Sparks: $2.00
    await h.advanceTo(janStart - 12 * HOUR);
    await h.sync();
    // Stripe cuts December's draft and Sparks holds it…
    await h.advanceTo(janStart + 1_000);
    const draft = await h.invoiceFor(late, DEC);
    expect(draft).toMatchObject({ status: "draft", auto_advance: false });
    // …then an operator adds a $2.50 fee in the Dashboard and finalizes it before the close.
    await h.stripe.invoiceItems.create({
      customer: late.stripeId,
      invoice: draft?.id ?? "",
      amount: 250,
      currency: "usd",
      description: "Setup fee (added by hand)",
    });
    await h.stripe.invoices.finalizeInvoice(draft?.id ?? "");
    await h.advanceTo(janStart + 16 * MIN);
    await h.hourlyCheck();

    const cmp = await compareInvoices({ config: h.config, database: h.db.database }, DEC);
    expect(cmp.rows.find((r) => r.customer_id === late.id)).toMatchObject({
      invoice_id: draft?.id,
      invoice_status: "open",
      invoice_total: "4.50",
      ledger_net: "2.00",
      drift: "2.50",
      matches_ledger: false,
    });
    expect(cmp.mismatches).toBeGreaterThanOrEqual(1);
    // The report and an alert say so too: a final invoice can only be credited now.
    const report = await h.report(late, DEC);
    expect(report.usd.net).toBe("2.00");
    expect(report.invoice).toMatchObject({ id: draft?.id, total: "4.50", matches_ledger: false });
    const alerts = await h.workerDeps.queues
      .queue("alerts")
      .getJobs(["completed", "waiting", "active", "failed"]);
    const mismatch = alerts.find((j) => j.data.kind === "invoice_mismatch" && j.data.customerId === late.id);
    expect(mismatch?.data.title).toContain("differs from the ledger by 2.50 USD");
  });
});
