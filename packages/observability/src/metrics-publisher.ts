import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from "prom-client";
import { metricsRegistry } from "./metrics";

type MetricJson = MetricObjectWithValues<MetricValue<string>>;

/** What a worker process counts and the API's `/metrics` must show when they run apart. */
export const PUBLISHED_METRICS: readonly string[] = [
  "sparks_items_sent_total",
  "sparks_items_quarantined_total",
  "sparks_items_failed_total",
  "sparks_stripe_requests_total",
  "sparks_langfuse_requests_total",
  "sparks_webhook_events_total",
  "sparks_alerts_total",
];

/** The few Redis calls the publisher needs (an ioredis client fits). */
export interface MetricsRedis {
  set(key: string, value: string, mode: "EX", seconds: number): Promise<unknown>;
  scan(
    cursor: string,
    match: "MATCH",
    pattern: string,
    count: "COUNT",
    n: number,
  ): Promise<[string, string[]]>;
  mget(...keys: string[]): Promise<(string | null)[]>;
}

async function snapshot(registry: Registry): Promise<MetricJson[]> {
  const all = (await registry.getMetricsAsJSON()) as MetricJson[];
  return all.filter((m) => PUBLISHED_METRICS.includes(m.name));
}

/**
 * prom-client counters live in the process that increments them. A worker running apart
 * (`sparks worker`) publishes its pipeline counters to Redis every `intervalMs`, under a key
 * that expires if the process dies, and the API merges them into `/metrics`.
 */
export function startMetricsPublisher(
  redis: MetricsRedis,
  options: { prefix: string; id: string; intervalMs?: number; registry?: Registry },
): () => Promise<void> {
  const interval = options.intervalMs ?? 10_000;
  const key = `${options.prefix}:metrics:${options.id}`;
  const registry = options.registry ?? metricsRegistry;
  const publish = async () => {
    await redis.set(key, JSON.stringify(await snapshot(registry)), "EX", Math.ceil((interval * 3) / 1000));
  };
  const timer = setInterval(() => void publish().catch(() => undefined), interval);
  timer.unref();
  void publish().catch(() => undefined);
  return async () => {
    clearInterval(timer);
    await publish().catch(() => undefined);
  };
}

export async function readPublishedMetrics(redis: MetricsRedis, prefix: string): Promise<MetricJson[][]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}:metrics:*`, "COUNT", 100);
    cursor = next;
    keys.push(...found);
  } while (cursor !== "0");
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  return values.flatMap((v) => {
    if (v === null) return [];
    try {
      return [JSON.parse(v) as MetricJson[]];
    } catch {
      return [];
    }
  });
}

/** This process's metrics plus every published worker's, counters summed per label set. */
export async function mergedMetricsText(
  published: readonly MetricJson[][],
  registry: Registry = metricsRegistry,
) {
  if (published.length === 0) return registry.metrics();
  const own = (await registry.getMetricsAsJSON()) as MetricJson[];
  return AggregatorRegistry.aggregate([own, ...published]).metrics();
}
