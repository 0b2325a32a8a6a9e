import { alertKeys, enqueueAlert } from "@sparks/alerts";
import {
  driftAlertLines,
  formatSparks,
  isUsageCategory,
  marginRows,
  monthRange,
  parseMonth,
} from "@sparks/core";
import { ReconciliationRepository } from "@sparks/db";
import { PermanentJobError } from "@sparks/queues";
import {
  createStripeClient,
  meterEventName,
  type StripeClient,
  StripeMeterSummaryService,
} from "@sparks/stripe";
import type { WorkerDeps } from "../worker-deps";
import { compareInvoices } from "./compare-invoices.use-case";
import { clock } from "./pipeline-context";
import {
  DEFAULT_DRIFT_THRESHOLD_SPARKS,
  DEFAULT_MARGIN_FLOOR_PERCENT,
  DEFAULT_SETTLE_MS,
  type ReconcileDeps,
  type ReconcileOptions,
  type ReconcileReport,
  type ReconcileRow,
  type RepairAction,
} from "./reconcile.types";
import { groupKey, readLangfuseView } from "./reconcile-langfuse.view";
import { repairGroup } from "./reconcile-repair.use-case";

function stripeFor(deps: ReconcileDeps): StripeClient | null {
  if (deps.stripeClient) return deps.stripeClient;
  const { secretKey, apiBase } = deps.config.stripe;
  return secretKey ? createStripeClient({ secretKey, apiBase }) : null;
}

/**
 * Reconciles one month, per customer and category: Langfuse (re-read) vs the ledger (exact and
 * sent Sparks) vs Stripe (meter event summaries), with the drift; and per customer the
 * month-end invoice vs the ledger's net (`compareInvoices`). With `repair`, ledger-vs-Stripe
 * gaps are repaired (see `repairGroup`) — Langfuse-vs-ledger drift is only reported: a sync of
 * the month fixes the ledger. Drift above the threshold and a margin below the floor raise
 * alerts (deduplicated per customer per day / per month).
 */
export async function reconcile(
  deps: ReconcileDeps,
  input: { month: string; repair: boolean },
  options: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const parsed = parseMonth(input.month);
  if (!parsed.ok) throw new PermanentJobError(parsed.err.message);
  const month = parsed.val;
  const threshold = BigInt(options.driftThresholdSparks ?? DEFAULT_DRIFT_THRESHOLD_SPARKS);
  const now = clock(deps as WorkerDeps);
  const repo = new ReconciliationRepository(deps.database.db);
  const langfuse = await readLangfuseView(deps, month);
  const occurred = langfuse ? await repo.occurredTotals(month, langfuse.traceIds) : [];
  const billed = await repo.billedTotals(month);
  const stripe = stripeFor(deps);
  const meters = stripe ? new StripeMeterSummaryService(stripe) : null;
  const { start, end } = monthRange(month);

  const keys = new Map<string, { customerId: string; category: string }>();
  for (const k of langfuse?.exact.keys() ?? []) {
    const [customerId = "", category = ""] = k.split("\u0000");
    keys.set(k, { customerId, category });
  }
  for (const r of [...occurred, ...billed]) keys.set(groupKey(r.customerId, r.category), r);
  const occurredBy = new Map(occurred.map((r) => [groupKey(r.customerId, r.category), r.exactNano]));
  const billedBy = new Map(billed.map((r) => [groupKey(r.customerId, r.category), r]));

  const rows: ReconcileRow[] = [];
  const repairs: RepairAction[] = [];
  const driftByCustomer = new Map<string, string[]>();
  for (const [k, { customerId, category }] of [...keys].sort(([a], [b]) => a.localeCompare(b))) {
    const b = billedBy.get(k);
    const ledgerOccurred = occurredBy.get(k) ?? 0n;
    const langfuseNano = langfuse ? (langfuse.exact.get(k) ?? 0n) : null;
    const sent = b?.sentSparks ?? 0n;
    let stripeSparks: bigint | null = null;
    const stripeCustomerId = b?.stripeCustomerId ?? null;
    if (meters && stripeCustomerId && isUsageCategory(category)) {
      const eventName = meterEventName(deps.config.stripe.meterPrefix, category);
      const meterId = await meters.meterId(eventName);
      if (meterId) {
        stripeSparks = await meters.total(meterId, stripeCustomerId, start, end);
        if (input.repair && stripeSparks !== sent) {
          const group = { month, customerId, category, stripeCustomerId, eventName };
          const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
          repairs.push(...(await repairGroup(deps, meters, meterId, group, settleMs)));
        }
      }
    }
    const lfDrift = langfuseNano === null ? null : langfuseNano - ledgerOccurred;
    const stDrift = stripeSparks === null ? null : stripeSparks - sent;
    rows.push({
      customer_id: customerId,
      category,
      stripe_customer_id: stripeCustomerId,
      langfuse_sparks: langfuseNano === null ? null : formatSparks(langfuseNano),
      ledger_occurred_sparks: formatSparks(ledgerOccurred),
      ledger_exact_sparks: formatSparks(b?.exactNano ?? 0n),
      ledger_late_sparks: formatSparks(b?.lateNano ?? 0n),
      ledger_sent_sparks: sent.toString(),
      stripe_sparks: stripeSparks === null ? null : stripeSparks.toString(),
      drift: {
        langfuse_vs_ledger: lfDrift === null ? null : formatSparks(lfDrift),
        ledger_vs_stripe: stDrift === null ? null : stDrift.toString(),
      },
    });
    const over = driftAlertLines(category, lfDrift, stDrift, threshold);
    if (over.length > 0)
      driftByCustomer.set(customerId, [...(driftByCustomer.get(customerId) ?? []), ...over]);
  }

  const margins = marginRows(
    deps.config.billing.sparkRateUsd,
    await repo.sentByCustomerTier(month),
    langfuse?.costByCustomer ?? new Map(),
    options.marginFloorPercent ?? DEFAULT_MARGIN_FLOOR_PERCENT,
  );
  const invoices = await compareInvoices(
    { config: deps.config, database: deps.database, ...(stripe ? { stripeClient: stripe } : {}) },
    month,
  );
  const alerts: string[] = [];
  if (deps.queues) {
    const enqueueOptions = deps.logger ? { logger: deps.logger } : {};
    for (const [customerId, lines] of driftByCustomer) {
      const repaired = repairs.filter((r) => r.customer_id === customerId && r.outcome === "repaired").length;
      const dedupeKey = alertKeys.reconciliationDrift(month, customerId, now);
      const text = `${lines.join("; ")}${input.repair ? ` (${repaired} repair(s) made)` : ""}`;
      const title = `Reconciliation drift for ${customerId} in ${month}`;
      const alert = { kind: "reconciliation_drift" as const, dedupeKey, customerId, title, text };
      await enqueueAlert(deps.queues, { ...alert, data: { month, lines } }, enqueueOptions);
      alerts.push(dedupeKey);
    }
    for (const m of margins.filter((r) => r.below_floor)) {
      const dedupeKey = alertKeys.marginBelowFloor(m.customer_id, month);
      await enqueueAlert(
        deps.queues,
        {
          kind: "margin_below_floor",
          dedupeKey,
          customerId: m.customer_id,
          title: `Margin of ${m.customer_id} below the floor in ${month}`,
          text: `billed $${m.billed_usd}, Langfuse cost $${m.langfuse_cost_usd}: margin ${m.margin_percent}%`,
          data: { month, ...m },
        },
        enqueueOptions,
      );
      alerts.push(dedupeKey);
    }
  }
  return {
    month,
    generated_at: now.toISOString(),
    repair: input.repair,
    sources: { langfuse: langfuse ? "read" : "not configured", stripe: stripe ? "read" : "not configured" },
    rows,
    repairs,
    margins,
    alerts,
    invoices,
  };
}
