import { enqueueAlert, quotaCountersLostAlert } from "@sparks/alerts";
import { monthOf, NANO_PER_SPARK, parseNanoSparks } from "@sparks/core";
import { type Database, QuotaRepository } from "@sparks/db";
import { type QueueService, QuotaStore, UsageCounters } from "@sparks/queues";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

export interface QuotaCountersGuardDeps {
  database: Database;
  redis: Redis;
  queues: QueueService;
  logger?: Logger;
  now?: () => Date;
}

export interface RebuildResult {
  rebuilt: boolean;
  customers: number;
  /** True when the ledger had usage this month, i.e. the counters had really been lost. */
  lost: boolean;
}

/** Whole Sparks of an exact ledger total (never negative). */
function wholeOf(exact: string): number {
  const nano = exact.startsWith("-") ? 0n : parseNanoSparks(exact);
  return Number(nano / NANO_PER_SPARK);
}

/**
 * Keeps the quota counters honest after Redis lost its data (issue 19): when the
 * counters-ready marker is gone, the month's billed counters are rebuilt from the Postgres
 * ledger, then the marker is set again. Until then `QuotaStore` reports the counters as
 * untrusted and `/quota` answers per the tier's fail policy — never `used: 0`. Provisional
 * figures come back with the next quota refresh (QUOTA_REFRESH_SECONDS). One rebuild at a time
 * per process (a shared promise) and across processes (a Redis lock).
 */
export class QuotaCountersGuard {
  private running: Promise<RebuildResult> | null = null;
  private readonly store: QuotaStore;
  private readonly counters: UsageCounters;

  constructor(private readonly deps: QuotaCountersGuardDeps) {
    this.store = new QuotaStore({ redis: deps.redis, prefix: deps.queues.prefix });
    this.counters = new UsageCounters({ redis: deps.redis, prefix: deps.queues.prefix });
  }

  /** True while this process rebuilds. */
  get rebuilding(): boolean {
    return this.running !== null;
  }

  /** Starts a rebuild in the background unless one runs; errors are logged, the next call retries. */
  kick(): void {
    if (this.running) return;
    this.ensure().catch((e: unknown) =>
      this.deps.logger?.warn(
        { err: e instanceof Error ? e.message : String(e) },
        "quota counters not rebuilt",
      ),
    );
  }

  /** Rebuilds when the marker is missing; returns what it did. */
  ensure(): Promise<RebuildResult> {
    if (this.running) return this.running;
    const run = this.rebuildIfLost().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  private async rebuildIfLost(): Promise<RebuildResult> {
    if (await this.store.isTrusted()) return { rebuilt: false, customers: 0, lost: false };
    const release = await this.store.tryRebuildLock();
    if (!release) return { rebuilt: false, customers: 0, lost: false };
    try {
      if (await this.store.isTrusted()) return { rebuilt: false, customers: 0, lost: false };
      const now = this.deps.now?.() ?? new Date();
      const month = monthOf(now);
      // Versioned by the time the ledger was read, so a sync writing a newer total wins.
      const readAt = Date.now();
      const totals = await new QuotaRepository(this.deps.database.db).monthTotals(month);
      for (const t of totals) {
        await this.counters.setMonthTotal(t.customerId, month, wholeOf(t.exact), readAt);
      }
      await this.store.markTrusted(now);
      const lost = totals.some((t) => wholeOf(t.exact) > 0);
      this.deps.logger?.[lost ? "warn" : "info"](
        { month, customers: totals.length },
        lost
          ? "quota counters were lost (Redis emptied); rebuilt from the ledger"
          : "quota counters initialised",
      );
      // A fresh install has nothing to lose: only usage that Redis forgot is worth an alert.
      if (lost) {
        await enqueueAlert(
          this.deps.queues,
          quotaCountersLostAlert({ at: now, customers: totals.length, month }),
          {
            ...(this.deps.logger ? { logger: this.deps.logger } : {}),
          },
        );
      }
      return { rebuilt: true, customers: totals.length, lost };
    } finally {
      await release().catch(() => undefined);
    }
  }
}
