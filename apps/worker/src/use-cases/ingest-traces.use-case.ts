import { buildTraceInput, deriveUsage, desiredItems, groupByTrace, planLedger } from "@sparks/core";
import {
  CustomerRepository,
  type CustomerRow,
  type LedgerItemWrite,
  ObservationStagingRepository,
  type SparksDb,
  type SparksTx,
  type StagedObservation,
  SyncRunRepository,
  TierHistoryRepository,
  type TierSegment,
  UsageItemRepository,
} from "@sparks/db";
import type { WorkerDeps } from "../worker-deps";

export interface IngestCounts {
  observations: number;
  traces: number;
  items_new: number;
  items_updated: number;
  quarantined: number;
  corrections: number;
  discrepancies: number;
  unbillable: number;
  tier_mismatches: number;
}

export function emptyCounts(): IngestCounts {
  return {
    observations: 0,
    traces: 0,
    items_new: 0,
    items_updated: 0,
    quarantined: 0,
    corrections: 0,
    discrepancies: 0,
    unbillable: 0,
    tier_mismatches: 0,
  };
}

export function addCounts(into: IngestCounts, more: IngestCounts): void {
  for (const key of Object.keys(into) as (keyof IngestCounts)[]) into[key] += more[key];
}

/** Customer and tier lookups cached for one sync run (they rarely change within one). */
export class ResolutionCache {
  private readonly customers = new Map<string, CustomerRow | null>();
  private readonly tiers = new Map<string, TierSegment[]>();

  async resolve(db: SparksDb | SparksTx, refs: Iterable<string>) {
    const missing = [...new Set(refs)].filter((r) => !this.customers.has(r));
    if (missing.length > 0) {
      const found = await new CustomerRepository(db).findByReferences(missing);
      for (const ref of missing) this.customers.set(ref, found.get(ref) ?? null);
      const ids = [...new Set([...found.values()].map((c) => c.id))].filter((id) => !this.tiers.has(id));
      const segments = await new TierHistoryRepository(db).segmentsFor(ids);
      for (const id of ids) this.tiers.set(id, segments.get(id) ?? []);
    }
    const customers = new Map<string, CustomerRow>();
    for (const [ref, row] of this.customers) if (row) customers.set(ref, row);
    return { customers, tiers: this.tiers };
  }
}

export interface IngestInput {
  traceIds: readonly string[];
  syncRunId: string | null;
  /** A page just read from Langfuse: staged first, in the same transaction. */
  page?: readonly StagedObservation[];
  /**
   * Rows an earlier page staged (in a transaction that may not have committed yet) of traces it
   * left for this page to derive: taken as part of this page, and those traces are re-derived.
   */
  carried?: readonly StagedObservation[];
  /** Traces of this page that a later page derives (it gets their rows as `carried`). */
  deferred?: ReadonlySet<string>;
  /**
   * The previous page's transaction. This one stages and derives meanwhile, but touches the ledger
   * only after that one committed (and rolls back if it failed): the ledger never reflects rows
   * that were not staged, and no row lock is held while waiting on it.
   */
  after?: Promise<unknown>;
}

/**
 * Every staged row of the traces whose staged rows this page changed. A trace whose rows a
 * re-read found unchanged is not re-derived: its ledger rows were written from exactly these
 * rows, in the transaction that staged them (an operator retry re-derives without a page).
 * The page's own rows are taken from memory; only the traces' other rows (earlier pages, late
 * observations) are read back.
 */
async function traceRowsAfterStaging(
  staging: ObservationStagingRepository,
  page: readonly StagedObservation[],
  changed: ReadonlySet<string>,
): Promise<StagedObservation[]> {
  if (changed.size === 0) return [];
  // The last copy of an id wins, as in `stage`.
  const fromPage = new Map<string, StagedObservation>();
  for (const r of page) if (changed.has(r.traceId)) fromPage.set(r.observationId, r);
  const others = await staging.loadOthersOfTraces([...changed], [...fromPage.keys()]);
  return [...others, ...fromPage.values()];
}

/**
 * Stages a page (if given) and re-derives whole traces from all their staged observations,
 * applying the ledger rules — all in ONE transaction (one commit per page, and the ledger never
 * reflects a half-staged page). Existing rows are locked in id order, as the push use-case
 * does, so a trace is never re-decided while its items are being bound to a meter event.
 */
export async function ingestTraces(
  deps: WorkerDeps,
  input: IngestInput,
  cache: ResolutionCache,
): Promise<IngestCounts> {
  const counts = emptyCounts();
  // A page whose traces all continue on the next page is still staged (the next page carries them).
  if (input.traceIds.length === 0 && (input.page?.length ?? 0) === 0) return counts;
  const now = deps.now ? deps.now() : new Date();
  return deps.database.db.transaction(async (tx) => {
    // Page commits need not wait for their WAL flush: losing the last pages in a Postgres crash
    // only means reading them again, and the watermark (committed synchronously later, after
    // them in the WAL) can never survive without them. Meter-event decisions stay synchronous.
    // Reads are key lookups (index scans) whatever the tables' statistics say mid-backfill.
    const staging = new ObservationStagingRepository(tx);
    await staging.pageTransactionSettings();
    let rows: StagedObservation[];
    if (input.page) {
      const changed = await staging.stage(input.page);
      const carried = input.carried ?? [];
      for (const r of carried) changed.add(r.traceId);
      for (const traceId of input.deferred ?? []) changed.delete(traceId);
      if (input.syncRunId) await new SyncRunRepository(tx).addTraces(input.syncRunId, input.traceIds);
      rows = await traceRowsAfterStaging(
        staging,
        carried.length > 0 ? [...carried, ...input.page] : input.page,
        changed,
      );
    } else {
      rows = await staging.loadByTraceIds(input.traceIds);
    }
    const byTrace = groupByTrace(rows);
    const derivations = [...byTrace].map(([traceId, rows]) => {
      const trace = buildTraceInput(traceId, rows);
      return { trace, derived: deriveUsage(trace, deps.config.billing) };
    });
    const refs = derivations.flatMap((d) => (d.derived.customerRef ? [d.derived.customerRef] : []));
    const { customers, tiers } = await cache.resolve(tx, refs);
    const desired: LedgerItemWrite[] = [];
    for (const { trace, derived } of derivations) {
      const rows = desiredItems(derived, trace.timestamp, {
        config: deps.config.billing,
        now,
        customers,
        tiers,
        syncRunId: input.syncRunId,
      });
      for (const row of rows) {
        if (row.status === "quarantined") counts.quarantined++;
        if (row.status === "unbillable") counts.unbillable++;
        if (row.tierHint !== null && row.tier !== null && row.tierHint !== row.tier) counts.tier_mismatches++;
        desired.push(row);
      }
    }
    counts.traces = input.page ? input.traceIds.length : byTrace.size;
    counts.observations = input.page?.length ?? 0;
    if (input.after) await input.after;
    const items = new UsageItemRepository(tx);
    const existing = await items.lockByTraceIds([...byTrace.keys()]);
    const plan = planLedger(existing, desired);
    await items.deleteUnsent(plan.deletes);
    await items.updateMany(plan.updates);
    await items.insertMany(plan.inserts);
    counts.items_new += plan.counts.itemsNew;
    counts.items_updated += plan.counts.itemsUpdated;
    counts.corrections += plan.counts.corrections;
    counts.discrepancies += plan.counts.discrepancies;
    return counts;
  });
}
