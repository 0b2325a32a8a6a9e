import type { AppConfig } from "@sparks/config";
import { formatCents, formatSparks, type MonthKey, monthRange, parseMonth } from "@sparks/core";
import { CustomerMonthCloseRepository, CustomerRepository, type Database, expectedInvoice } from "@sparks/db";
import { createStripeClient, InvoiceService, type StripeClient } from "@sparks/stripe";

export interface InvoiceComparisonRow {
  customer_id: string;
  stripe_customer_id: string | null;
  /** Sparks' close of this customer's month: `open` or `closed`. */
  month_status: string;
  /** Exact Sparks of the customer's month in the ledger (sent or not). */
  month_sparks: string;
  invoice_id: string | null;
  /** Stripe's status now (`draft` = still held or not cut, `open`/`paid` = finalized); null: none found. */
  invoice_status: string | null;
  invoice_total: string | null;
  /** What the ledger says the invoice totals (the report's net), USD. */
  ledger_net: string;
  /** Invoice total − ledger net, USD; null without an invoice. */
  drift: string | null;
  matches_ledger: boolean;
  /** Why Sparks holds the invoice, as the month close last recorded it. */
  hold_reason: string | null;
}

export interface InvoiceComparison {
  month: MonthKey;
  source: "stripe" | "unavailable";
  rows: InvoiceComparisonRow[];
  mismatches: number;
}

/**
 * `sparks reconcile` beyond meter totals (issue 14): per customer of the month, the Stripe
 * invoice whose period ends at the month's end against the invoice the ledger expects (the
 * same computation as `/usage/report`'s net). Read-only. A finalized invoice that differs is
 * a real billing error; a draft that differs is still held (see docs/month-end.md).
 */
export async function compareInvoices(
  deps: { config: AppConfig; database: Database; stripeClient?: StripeClient },
  monthInput: string,
): Promise<InvoiceComparison> {
  const parsed = parseMonth(monthInput);
  if (!parsed.ok) throw new Error(parsed.err.message);
  const month = parsed.val;
  const { end } = monthRange(month);
  const db = deps.database.db;
  const { secretKey, apiBase, meterPrefix } = deps.config.stripe;
  const client = deps.stripeClient ?? (secretKey ? createStripeClient({ secretKey, apiBase }) : null);
  const stripe = client ? new InvoiceService(client, meterPrefix) : null;
  const closes = new CustomerMonthCloseRepository(db);
  const customers = new CustomerRepository(db);
  const states = new Map((await closes.listMonth(month)).map((s) => [s.customerId, s]));
  const rows: InvoiceComparisonRow[] = [];
  for (const id of await closes.customersOfMonth(month, end)) {
    const customer = await customers.findById(id);
    if (!customer) continue;
    const expected = await expectedInvoice(db, deps.config.billing, customer, month);
    const state = states.get(id);
    const invoice =
      stripe && customer.stripeCustomerId
        ? await stripe.invoiceEndingAt(customer.stripeCustomerId, end)
        : null;
    if (!invoice && expected.totalCents === 0n && expected.monthSparksNano === 0n && !state) continue; // no usage, no invoice
    const drift = invoice ? invoice.totalCents - expected.totalCents : null;
    rows.push({
      customer_id: id,
      stripe_customer_id: customer.stripeCustomerId,
      month_status: state?.status ?? "open",
      month_sparks: formatSparks(expected.monthSparksNano),
      invoice_id: invoice?.id ?? state?.invoiceId ?? null,
      invoice_status: invoice?.status ?? null,
      invoice_total: invoice ? formatCents(invoice.totalCents) : null,
      ledger_net: formatCents(expected.totalCents),
      drift: drift === null ? null : formatCents(drift),
      matches_ledger: drift === 0n,
      hold_reason: state?.holdReason ?? null,
    });
  }
  return {
    month,
    source: stripe ? "stripe" : "unavailable",
    rows,
    mismatches: rows.filter((r) => !r.matches_ledger).length,
  };
}
