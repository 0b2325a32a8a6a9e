import { Counter, collectDefaultMetrics, Gauge, type Metric, register } from "prom-client";

/**
 * Every Sparks metric, defined once and shared by the API (which serves `/metrics`) and the
 * worker (which increments most counters). They live on prom-client's default registry, so
 * `sparks start` (API and worker in one process) exposes the worker's counters too.
 */
export const metricsRegistry = register;

// A second copy of this module in one process (tests re-importing) must reuse the series,
// since registering a name twice throws.
function once<T extends Metric>(name: string, create: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? create();
}

function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
  return once(name, () => new Counter({ name, help, labelNames, registers: [register] }));
}

function gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
  return once(name, () => new Gauge({ name, help, labelNames, registers: [register] }));
}

/** Jobs per queue and state, refreshed from BullMQ when `/metrics` is scraped. */
export const queueDepth = gauge(
  "sparks_queue_depth",
  "Jobs in a queue by state (waiting, active, delayed, prioritized)",
  ["queue", "state"],
);
export const queueFailed = gauge("sparks_queue_failed", "Jobs in a queue's failed set (the error log)", [
  "queue",
]);

/** now − the end of the last closed sync window, per source (`sync_windows.name`). */
export const syncLagSeconds = gauge(
  "sparks_sync_lag_seconds",
  "Seconds since the end of the last closed sync window",
  ["window"],
);

/** Ledger items that reached Stripe (counted when Stripe accepted them). */
export const itemsSent = counter("sparks_items_sent_total", "Usage items sent to Stripe", ["category"]);
/** Items set aside for an operator (unknown customer, bad data). */
export const itemsQuarantined = counter("sparks_items_quarantined_total", "Usage items quarantined", [
  "category",
  "reason",
]);
/** Items that failed for good (retries exhausted or a permanent Stripe error). */
export const itemsFailed = counter("sparks_items_failed_total", "Usage items failed", ["category"]);

/** outcome: ok | error | rate_limited | timeout (one per attempt, retries counted). */
export const stripeRequests = counter("sparks_stripe_requests_total", "Requests to Stripe", [
  "operation",
  "outcome",
]);
export const langfuseRequests = counter("sparks_langfuse_requests_total", "Requests to Langfuse", [
  "operation",
  "outcome",
]);

/** outcome: processed | duplicate | ignored | invalid_signature | failed. */
export const webhookEvents = counter("sparks_webhook_events_total", "Stripe webhook deliveries by outcome", [
  "type",
  "outcome",
]);

/** outcome: delivered | duplicate | suppressed | logged | failed. */
export const alertsTotal = counter("sparks_alerts_total", "Alerts handled by outcome", ["kind", "outcome"]);

let defaultsCollected = false;

/** Process metrics (CPU, memory, event loop); once per process. */
export function collectDefaultMetricsOnce(): void {
  if (defaultsCollected || register.getSingleMetric("process_cpu_user_seconds_total")) return;
  collectDefaultMetrics({ register });
  defaultsCollected = true;
}

/** What `refreshQueueMetrics` needs of a BullMQ Queue. */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

const DEPTH_STATES = ["waiting", "active", "delayed", "prioritized"] as const;

/** Reads every queue's job counts (one round trip each) into the queue gauges. */
export async function refreshQueueMetrics(queues: readonly CountableQueue[]): Promise<void> {
  const counts = await Promise.all(queues.map((q) => q.getJobCounts(...DEPTH_STATES, "failed")));
  queues.forEach((queue, i) => {
    const c = counts[i] ?? {};
    for (const state of DEPTH_STATES) queueDepth.set({ queue: queue.name, state }, c[state] ?? 0);
    queueFailed.set({ queue: queue.name }, c.failed ?? 0);
  });
}

/** Sets the lag per watermark; a source never synced has no series (rather than a fake 0). */
export function refreshSyncLag(
  watermarks: readonly { name: string; lastClosedEnd: Date }[],
  now: Date,
): void {
  syncLagSeconds.reset();
  for (const w of watermarks) {
    syncLagSeconds.set({ window: w.name }, Math.max(0, (now.getTime() - w.lastClosedEnd.getTime()) / 1000));
  }
}
