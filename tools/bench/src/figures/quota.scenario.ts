import { ABUSE_LIMITS_OFF_ENV } from "@sparks/testing";
import type { BenchSizes, FigureReport } from "../bench.types";
import { BenchEnvironment, cpuSeconds, customerRefs } from "../bench-environment";
import type { ApiHostSpec } from "../hosts/api-host.entry";
import { ChildHost } from "../hosts/ipc.channel";
import { openLoopLoad } from "./open-loop.load";
import { emulatorSpec, fmt } from "./scenario.util";

const API_ENTRY = new URL("../hosts/api-host.entry.ts", import.meta.url);
const SERVICE_SECRET = "bench-service-secret-0123456789";

function load(url: string, rate: number, seconds: number, paths: string[], bodies?: string[]) {
  return openLoopLoad({
    url,
    paths,
    rate,
    seconds,
    headers: { authorization: `Bearer ${SERVICE_SECRET}` },
    ...(bodies ? { bodies } : {}),
  });
}

/**
 * `GET /quota` as Flowise calls it (the service secret, a customer named), the API in its own
 * process and an open-loop load generator in this one, on loopback.
 */
export async function runQuota(sizes: BenchSizes): Promise<FigureReport> {
  const env = await BenchEnvironment.create(
    emulatorSpec(sizes, 500, { latencyMs: 0, rateLimitPerSecond: 0 }),
    {
      ledger: true,
    },
  );
  const { database, redis } = env.ledger();
  const spec: ApiHostSpec = {
    env: {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      AUTH0_ACTION_SECRET: SERVICE_SECRET,
      LOG_LEVEL: "warn",
      // Every request comes from one loopback client, far above the per-client limits.
      ...ABUSE_LIMITS_OFF_ENV,
    },
    databaseUrl: database.url,
    redisUrl: redis.url,
    prefix: redis.prefix,
  };
  const api = ChildHost.spawn(API_ENTRY, spec);
  try {
    await api.ready;
    const url = await api.request<string>("url");
    const paths = customerRefs(Math.min(20, sizes.customers)).map((ref) => `/quota?customer_id=${ref}`);
    // Warm-up (JIT, pools), then the measured run at the target rate.
    await load(url, sizes.quotaRate, Math.max(1, Math.round(sizes.quotaSeconds / 3)), paths);
    const cpuBefore = await cpuSeconds(api.pid);
    const r = await load(url, sizes.quotaRate, sizes.quotaSeconds, paths);
    const apiCpuMsPerRequest = (((await cpuSeconds(api.pid)) - cpuBefore) * 1000) / Math.max(1, r.sent);
    const p99 = r.latencyMs.p99;
    // POST /quota/reserve, the same way: 1 Spark each, holds that expire after a second so the
    // per-customer hold set stays the size a real run rate gives it.
    const refs = customerRefs(Math.min(20, sizes.customers));
    const reservePaths = refs.map(() => "/quota/reserve");
    const bodies = refs.map((ref) => JSON.stringify({ customer_id: ref, sparks: 1, ttl_seconds: 1 }));
    await load(url, sizes.quotaRate, Math.max(1, Math.round(sizes.quotaSeconds / 3)), reservePaths, bodies);
    const rr = await load(url, sizes.quotaRate, sizes.quotaSeconds, reservePaths, bodies);
    const ok = r.non2xx === 0 && r.errors === 0;
    const reserveOk = rr.non2xx === 0 && rr.errors === 0;
    return {
      rows: [
        {
          figure: "quota",
          label: `GET /quota p99 at ${fmt(r.achievedRate)} requests/s (asked ${fmt(sizes.quotaRate)}, open loop)`,
          value: `${fmt(p99, 2)} ms`,
          target: "≤ 5 ms",
          met: p99 <= 5 && ok && r.achievedRate >= sizes.quotaRate * 0.95,
        },
        {
          figure: "quota",
          label: `POST /quota/reserve p50 / p99 at ${fmt(rr.achievedRate)} requests/s (asked ${fmt(sizes.quotaRate)}, open loop)`,
          value: `${fmt(rr.latencyMs.p50, 2)} / ${fmt(rr.latencyMs.p99, 2)} ms`,
          target: "p99 ≤ 5 ms",
          met: rr.latencyMs.p99 <= 5 && reserveOk && rr.achievedRate >= sizes.quotaRate * 0.95,
        },
      ],
      details: { ...r, apiCpuMsPerRequest, reserve: rr },
      ...(ok && reserveOk
        ? {}
        : {
            failures: [
              `GET /quota: ${r.non2xx} non-2xx, ${r.errors} errors; POST /quota/reserve: ${rr.non2xx} non-2xx, ${rr.errors} errors`,
            ],
          }),
    };
  } finally {
    await api.stop();
    await env.close();
  }
}
