import { Agent, request } from "node:http";

export interface OpenLoopResult {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  achievedRate: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /**
   * How late the generator itself started requests (start − schedule): part of every latency
   * above, caused by the generator's timer tick and its own CPU, not by the server. Reported so
   * a reader can tell the two apart; the latencies keep counting it, as open-loop ones must.
   */
  dispatchLagMs: { p50: number; p99: number; max: number };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

/**
 * An open-loop load generator: requests start on a fixed schedule (every 2 ms, the number due
 * by then), whether or not earlier ones have answered, so a slow server meets the same arrival
 * rate instead of slowing the generator down (closed-loop tools hide queueing that way, and
 * autocannon's `overallRate` sends each second's requests in one burst). Latency is measured
 * from the scheduled start, so time spent waiting for a free socket counts too.
 */
export async function openLoopLoad(opts: {
  url: string;
  paths: readonly string[];
  headers: Record<string, string>;
  rate: number;
  seconds: number;
  maxSockets?: number;
  /** POST this JSON (one per path, in turn) instead of a GET. */
  bodies?: readonly string[];
}): Promise<OpenLoopResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 64 });
  const base = new URL(opts.url);
  const latencies: number[] = [];
  const lags: number[] = [];
  let sent = 0;
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const total = Math.round(opts.rate * opts.seconds);
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  const fire = (scheduledAt: number, path: string, body: string | undefined) => {
    const p = new Promise<void>((resolve) => {
      const headers =
        body === undefined
          ? opts.headers
          : {
              ...opts.headers,
              "content-type": "application/json",
              "content-length": String(Buffer.byteLength(body)),
            };
      const method = body === undefined ? "GET" : "POST";
      const req = request({ host: base.hostname, port: base.port, path, method, headers, agent }, (res) => {
        res.resume();
        res.on("end", () => {
          latencies.push(performance.now() - scheduledAt);
          if (res.statusCode !== undefined && res.statusCode < 300) ok++;
          else non2xx++;
          resolve();
        });
      });
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
  };
  while (sent < total) {
    const elapsed = performance.now() - started;
    const due = Math.min(total, Math.floor((elapsed / 1000) * opts.rate));
    while (sent < due) {
      const scheduledAt = started + (sent * 1000) / opts.rate;
      lags.push(performance.now() - scheduledAt);
      const body = opts.bodies === undefined ? undefined : opts.bodies[sent % opts.bodies.length];
      fire(scheduledAt, opts.paths[sent % opts.paths.length] ?? "/", body);
      sent++;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all([...inFlight]);
  const wall = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  return {
    sent,
    ok,
    non2xx,
    errors,
    achievedRate: ok / wall,
    latencyMs: {
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      max: latencies[latencies.length - 1] ?? 0,
    },
    dispatchLagMs: { p50: percentile(lags, 50), p99: percentile(lags, 99), max: lags[lags.length - 1] ?? 0 },
  };
}
