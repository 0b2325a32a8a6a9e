import {
  formatCents,
  formatSparks,
  isUsageCategory,
  type MonthKey,
  monthRange,
  NANO_PER_SPARK,
  roundUsdToCents,
  sparksToUsd,
  USAGE_CATEGORIES,
} from "@sparks/core";
import {
  CustomerMonthCloseRepository,
  CustomerRepository,
  type CustomerRow,
  expectedInvoice,
  UsageReportRepository,
} from "@sparks/db";
import { jobId } from "@sparks/queues";
import { createStripeClient, HOLD_METADATA_KEY, InvoiceService, type InvoiceState } from "@sparks/stripe";
import type { WorkerDeps } from "../worker-deps";
import { clock } from "./pipeline-context";

/** Invoice metadata value of a month-end hold: `month_close:YYYY-MM`. */
export function monthHoldReason(month: string): string {
  return `month_close:${month}`;
}

export type ReleaseOutcome =
  | {
      action: "released";
      invoiceId: string;
      totalCents: bigint;
      discountCents: bigint;
    }
  | { action: "already_released"; invoiceId: string; status: string }
  | { action: "held"; invoiceId: string; reason: string; atRiskCents: bigint }
  | { action: "refused" | "no_invoice"; reason: string };

const services = new WeakMap<WorkerDeps, InvoiceService>();

/** The Stripe invoice port of a worker (null when Stripe is not configured). */
export function invoiceServiceOf(deps: WorkerDeps): InvoiceService | null {
  const cached = services.get(deps);
  if (cached) return cached;
  const { secretKey, apiBase, meterPrefix } = deps.config.stripe;
  if (!secretKey) return null;
  const service = new InvoiceService(createStripeClient({ secretKey, apiBase }), meterPrefix);
  services.set(deps, service);
  return service;
}

function usdOfSparks(sparks: bigint, rate: string): bigint {
  return roundUsdToCents(sparksToUsd(sparks * NANO_PER_SPARK, rate));
}

/**
 * Releases one customer's held month-end invoice (issue 14), only once Sparks has closed that
 * month for that customer: Stripe's meter totals must equal the ledger per category, then the
 * volume discount is computed on the month's final usage and written idempotently (one line,
 * replaced when it changes), the draft's total must equal the ledger's expected total to the
 * cent, and only then is the invoice finalized. Anything else keeps the hold, records why and
 * the money at stake, and raises an `invoice_hold` alert. Running it twice changes nothing.
 */
export async function releaseMonthInvoice(
  deps: WorkerDeps,
  customerId: string,
  month: MonthKey,
  invoiceId?: string,
): Promise<ReleaseOutcome> {
  const stripe = invoiceServiceOf(deps);
  if (!stripe) return { action: "refused", reason: "STRIPE_SECRET_KEY is not set" };
  const db = deps.database.db;
  const closes = new CustomerMonthCloseRepository(db);
  const customer = await new CustomerRepository(db).findById(customerId);
  if (!customer) return refuse(deps, customerId, month, `no Sparks customer ${customerId}`);
  if (!customer.stripeCustomerId)
    return refuse(deps, customerId, month, `customer ${customerId} has no Stripe customer id`);
  const state = await closes.find(customerId, month);
  if (state?.status !== "closed") {
    return refuse(deps, customerId, month, `month ${month} is not closed for ${customerId} yet`);
  }
  const { start, end } = monthRange(month);
  const id = invoiceId ?? state.invoiceId;
  const invoice = id
    ? await stripe.retrieveInvoice(id)
    : await stripe.findDraftEndingAt(customer.stripeCustomerId, end);
  if (!invoice) {
    deps.logger.info({ customerId, month }, "month closed, but Stripe has not cut its invoice yet");
    return {
      action: "no_invoice",
      reason: `no draft invoice of ${customerId} ends at ${end.toISOString()}`,
    };
  }
  if (invoice.customer !== customer.stripeCustomerId) {
    return refuse(
      deps,
      customerId,
      month,
      `invoice ${invoice.id} belongs to ${invoice.customer}, not ${customerId}`,
    );
  }
  if (invoice.status !== "draft") {
    // Finalized before Sparks released it (by hand in the Dashboard, or a hold removed): nothing
    // to release, but a total that differs from the ledger is a real billing error to name.
    const ledger = await expectedInvoice(db, deps.config.billing, customer, month);
    const drift = invoice.totalCents - ledger.totalCents;
    await closes.recordInvoice(customerId, month, {
      invoiceId: invoice.id,
      invoiceStatus: invoice.status ?? "unknown",
      invoiceTotalCents: invoice.totalCents,
      ledgerNetCents: ledger.totalCents,
      holdReason: null,
      atRiskCents: drift === 0n ? null : drift < 0n ? -drift : drift,
    });
    if (drift !== 0n) await alertFinalizedMismatch(deps, customerId, month, invoice, ledger.totalCents);
    return {
      action: "already_released",
      invoiceId: invoice.id,
      status: invoice.status ?? "unknown",
    };
  }

  // 1. Stripe holds exactly what the ledger sent, per category, over the calendar month.
  const sent = await new UsageReportRepository(db).sentBetween(customerId, start, end);
  const stripeTotals = await stripe.meterTotals(customer.stripeCustomerId, start, end);
  const expected = await expectedInvoice(db, deps.config.billing, customer, month);
  const mismatches = [...new Set<string>([...USAGE_CATEGORIES, ...sent.keys()])]
    .map((category) => ({
      category,
      ledger: sent.get(category) ?? 0n,
      stripe: isUsageCategory(category) ? (stripeTotals.get(category) ?? 0n) : 0n,
    }))
    .filter((m) => m.ledger !== m.stripe);
  if (mismatches.length > 0) {
    const diff = mismatches.reduce(
      (s, m) => s + (m.ledger > m.stripe ? m.ledger - m.stripe : m.stripe - m.ledger),
      0n,
    );
    const reason = `meter totals differ: ${mismatches.map((m) => `${m.category} ledger ${m.ledger}, Stripe ${m.stripe}`).join("; ")}`;
    return hold(
      deps,
      customer,
      month,
      invoice,
      reason,
      usdOfSparks(diff, expected.rate),
      expected.totalCents,
    );
  }

  // Usage of earlier months billed on this invoice (late lines) is in the usage lines above; a
  // $0 line per month says so, so the customer can tell it from this month's usage.
  for (const late of await new UsageReportRepository(db).lateInto(customerId, month)) {
    await stripe.setLabelItem(
      invoice,
      `late:${late.fromMonth}`,
      `Includes ${formatSparks(late.exactNano)} Sparks of ${late.fromMonth} usage received after its invoice was final`,
    );
  }

  // 2. The discount on the final usage of the whole month, one line, replaced when it changes.
  const description = `Volume discount ${expected.discountPercent}% on ${month} usage (${expected.monthSparksNano / NANO_PER_SPARK} Sparks)`;
  await stripe.setDiscountItem(invoice, expected.discountCents, description);

  // 3. The draft must total what the ledger says, to the cent, before anyone is charged.
  const draft = await stripe.retrieveInvoice(invoice.id);
  if (draft.totalCents !== expected.totalCents) {
    const diff = draft.totalCents - expected.totalCents;
    const reason = `draft total ${formatCents(draft.totalCents)} USD, ledger expects ${formatCents(expected.totalCents)} USD`;
    return hold(deps, customer, month, draft, reason, diff < 0n ? -diff : diff, expected.totalCents);
  }

  const finalized = await stripe.finalizeInvoice(invoice.id);
  await closes.recordInvoice(customerId, month, {
    invoiceId: finalized.id,
    invoiceStatus: finalized.status ?? "open",
    invoiceTotalCents: finalized.totalCents,
    ledgerNetCents: expected.totalCents,
    discountCents: expected.discountCents,
    holdReason: null,
    atRiskCents: null,
    releasedAt: clock(deps),
  });
  deps.logger.info(
    {
      customerId,
      month,
      invoiceId: finalized.id,
      total: formatCents(finalized.totalCents),
    },
    "month invoice released",
  );
  return {
    action: "released",
    invoiceId: finalized.id,
    totalCents: finalized.totalCents,
    discountCents: expected.discountCents,
  };
}

function refuse(deps: WorkerDeps, customerId: string, month: string, reason: string): ReleaseOutcome {
  deps.logger.warn({ customerId, month, reason }, "invoice release refused");
  return { action: "refused", reason };
}

async function alertFinalizedMismatch(
  deps: WorkerDeps,
  customerId: string,
  month: string,
  invoice: InvoiceState,
  ledgerNetCents: bigint,
): Promise<void> {
  const drift = invoice.totalCents - ledgerNetCents;
  const reason = `invoice ${invoice.id} was finalized outside Sparks (${invoice.status}): total ${formatCents(invoice.totalCents)} USD, ledger expects ${formatCents(ledgerNetCents)} USD`;
  await deps.queues.add(
    "alerts",
    {
      kind: "invoice_mismatch",
      dedupeKey: `invoice_mismatch:${invoice.id}`,
      customerId,
      title: `Invoice ${invoice.id} of ${customerId} for ${month} differs from the ledger by ${formatCents(drift)} USD`,
      text: `${reason}. It can no longer change: credit it (credit note) or bill the difference; \`sparks reconcile --month ${month}\` shows it.`,
      data: {
        invoice_id: invoice.id,
        month,
        reason,
        drift_usd: formatCents(drift),
        invoice_total_usd: formatCents(invoice.totalCents),
        ledger_net_usd: formatCents(ledgerNetCents),
      },
    },
    { jobId: jobId("alert", "invoice_mismatch", invoice.id) },
  );
  deps.logger.warn(
    { customerId, month, invoiceId: invoice.id, reason },
    "finalized invoice differs from the ledger",
  );
}

async function hold(
  deps: WorkerDeps,
  customer: CustomerRow,
  month: string,
  invoice: InvoiceState,
  reason: string,
  atRiskCents: bigint,
  ledgerNetCents: bigint,
): Promise<ReleaseOutcome> {
  const stripe = invoiceServiceOf(deps) as InvoiceService;
  if (invoice.autoAdvance) await stripe.holdInvoice(invoice.id, `mismatch:${month}`);
  else if (invoice.metadata[HOLD_METADATA_KEY] !== `mismatch:${month}`)
    await stripe.noteHold(invoice.id, `mismatch:${month}`);
  await new CustomerMonthCloseRepository(deps.database.db).recordInvoice(customer.id, month, {
    invoiceId: invoice.id,
    invoiceStatus: "draft",
    invoiceTotalCents: invoice.totalCents,
    ledgerNetCents,
    holdReason: reason,
    atRiskCents,
  });
  await deps.queues.add(
    "alerts",
    {
      kind: "invoice_hold",
      dedupeKey: `invoice_hold:${invoice.id}`,
      customerId: customer.id,
      title: `Invoice ${invoice.id} of ${customer.id} for ${month} stays held: ${formatCents(atRiskCents)} USD at risk`,
      text: `${reason}. The draft is held (auto_advance=false) until this is fixed; see docs/month-end.md ("A hold that does not release").`,
      data: {
        invoice_id: invoice.id,
        month,
        reason,
        at_risk_usd: formatCents(atRiskCents),
        invoice_total_usd: formatCents(invoice.totalCents),
        ledger_net_usd: formatCents(ledgerNetCents),
      },
    },
    { jobId: jobId("alert", "invoice_hold", invoice.id) },
  );
  deps.logger.warn(
    { customerId: customer.id, month, invoiceId: invoice.id, reason },
    "invoice hold not released",
  );
  return { action: "held", invoiceId: invoice.id, reason, atRiskCents };
}
