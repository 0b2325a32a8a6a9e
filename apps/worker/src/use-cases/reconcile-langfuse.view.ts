import {
  addDecimal,
  buildTraceInput,
  DECIMAL_ZERO,
  type Decimal,
  deriveUsage,
  desiredItems,
  groupByTrace,
  monthRange,
  parseDecimal,
  parseNanoSparks,
} from "@sparks/core";
import type { StagedObservation } from "@sparks/db";
import type { WorkerDeps } from "../worker-deps";
import { ResolutionCache } from "./ingest-traces.use-case";
import { clock } from "./pipeline-context";
import type { ReconcileDeps } from "./reconcile.types";

export interface LangfuseView {
  /** Exact nano-Sparks per `customerId\0category`. */
  exact: Map<string, bigint>;
  traceIds: string[];
  costByCustomer: Map<string, Decimal>;
}

export const groupKey = (customerId: string, category: string) => `${customerId}\u0000${category}`;

/**
 * The Langfuse view: the month's window re-read with the pipeline's reader and derived with the
 * pipeline's own rules (trace building, core `deriveUsage`, customer and tier resolution,
 * `desiredItems`) — nothing is staged or written. Each trace's Langfuse `totalCost` is summed per
 * resolved customer for the margin. Traces that straddle the month edge are seen only in part.
 */
export async function readLangfuseView(deps: ReconcileDeps, month: string): Promise<LangfuseView | null> {
  const reader = deps.langfuse;
  if (!reader) return null;
  const { start, end } = monthRange(month);
  const rows: StagedObservation[] = [];
  for await (const page of reader.readWindow({ from: start, to: end })) rows.push(...page);
  const byTrace = groupByTrace(rows);
  const derivations = [...byTrace].map(([traceId, traceRows]) => {
    const trace = buildTraceInput(traceId, traceRows);
    let cost = DECIMAL_ZERO;
    for (const r of traceRows) {
      const parsed = r.costUsd === null ? null : parseDecimal(r.costUsd);
      if (parsed?.ok) cost = addDecimal(cost, parsed.val);
    }
    return { trace, cost, derived: deriveUsage(trace, deps.config.billing) };
  });
  const refs = derivations.flatMap((d) => (d.derived.customerRef ? [d.derived.customerRef] : []));
  const { customers, tiers } = await new ResolutionCache().resolve(deps.database.db, refs);
  const exact = new Map<string, bigint>();
  const costByCustomer = new Map<string, Decimal>();
  const now = clock(deps as WorkerDeps);
  for (const { trace, cost, derived } of derivations) {
    const items = desiredItems(derived, trace.timestamp, {
      config: deps.config.billing,
      now,
      customers,
      tiers,
      syncRunId: null,
    });
    const customerId = items[0]?.customerId ?? null;
    if (customerId !== null) {
      costByCustomer.set(customerId, addDecimal(costByCustomer.get(customerId) ?? DECIMAL_ZERO, cost));
    }
    for (const item of items) {
      if (item.customerId === null || item.status === "quarantined") continue;
      const k = groupKey(item.customerId, item.usageCategory);
      exact.set(k, (exact.get(k) ?? 0n) + parseNanoSparks(item.exactSparks));
    }
  }
  return { exact, traceIds: [...byTrace.keys()], costByCustomer };
}
