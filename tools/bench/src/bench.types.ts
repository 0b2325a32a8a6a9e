export type FigureId =
  | "ingest"
  | "push"
  | "budget"
  | "langfuse-requests"
  | "rss"
  | "quota"
  | "quota-fresh"
  | "e2e";

export const FIGURE_IDS: readonly FigureId[] = [
  "ingest",
  "push",
  "budget",
  "langfuse-requests",
  "rss",
  "quota",
  "quota-fresh",
  "e2e",
];

/** One printed row: what was measured, beside its target. */
export interface FigureRow {
  figure: FigureId;
  label: string;
  value: string;
  target: string;
  /** null: informational, no target of its own. */
  met: boolean | null;
}

export interface FigureReport {
  rows: FigureRow[];
  details: Record<string, unknown>;
  /** Smoke mode: a correctness failure (totals disagree) that must fail the run. */
  failures?: string[];
}

export interface BenchSizes {
  smoke: boolean;
  /** Hours of traffic (a sync reads them in 1 h chunks). */
  windowHours: number;
  customers: number;
  ingestObservations: number;
  v1Observations: number;
  budgetSeconds: number;
  /** Window over which the unbudgeted push rate is measured. */
  pushSeconds: number;
  budgetObservations: Record<"25" | "900", number>;
  rssObservations: { small: number; large: number };
  quotaRate: number;
  quotaSeconds: number;
  /** Provisional quota refresh: active customers, QUOTA_REFRESH_SECONDS, measured seconds. */
  quotaFresh: { customers: number; refreshSeconds: number; seconds: number };
  e2eObservations: number;
  /** Push jobs worked at once per worker process (PipelineOptions.pushConcurrency). */
  pushConcurrency: number;
  /** Worker processes sharing the push (and the STRIPE_MAX_RPS budget). */
  pushProcesses: number;
  timeoutMs: number;
  /** V8 flags for every worker child (e.g. `--cpu-prof`). */
  workerNodeFlags: string[];
}

export function benchSizes(scale: number, smoke: boolean): BenchSizes {
  if (smoke) {
    return {
      smoke,
      windowHours: 3,
      customers: 20,
      ingestObservations: 3_000,
      v1Observations: 1_000,
      budgetSeconds: 2,
      pushSeconds: 3,
      budgetObservations: { "25": 400, "900": 3_000 },
      rssObservations: { small: 1_000, large: 3_000 },
      quotaRate: 200,
      quotaSeconds: 1,
      quotaFresh: { customers: 50, refreshSeconds: 1, seconds: 8 },
      e2eObservations: 300,
      pushConcurrency: 32,
      pushProcesses: 1,
      timeoutMs: 120_000,
      workerNodeFlags: [],
    };
  }
  const n = (base: number) => Math.max(500, Math.round(base * scale));
  return {
    smoke,
    windowHours: 24,
    customers: 300,
    ingestObservations: n(200_000),
    v1Observations: n(30_000),
    budgetSeconds: 10,
    pushSeconds: 20,
    budgetObservations: { "25": n(2_000), "900": n(36_000) },
    rssObservations: { small: n(100_000), large: n(1_000_000) },
    quotaRate: 2_000,
    quotaSeconds: 10,
    quotaFresh: { customers: 1_000, refreshSeconds: 10, seconds: 60 },
    e2eObservations: n(9_000),
    pushConcurrency: 64,
    pushProcesses: 1,
    timeoutMs: 900_000,
    workerNodeFlags: [],
  };
}
