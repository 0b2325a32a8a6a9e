import type { BenchSizes, FigureReport } from "../bench.types";
import { BenchEnvironment, firstAccepted, sleep } from "../bench-environment";
import type { MeterCallsView } from "../hosts/emulator-host.types";
import { emulatorSpec, fmt } from "./scenario.util";

/**
 * STRIPE_MAX_RPS = B with the Stripe emulator enforcing Stripe's limit of that mode (25/s test,
 * 1,000/s live, over a sliding second, and one concurrent call per customer + meter): after ingesting more pending usage
 * than can be sent in the window, push 1:1 for `budgetSeconds` and count accepted calls in the
 * steady window (from the first accepted call) and every 429.
 */
async function runBudget(
  sizes: BenchSizes,
  budget: 25 | 900,
): Promise<{ use: number; rate: number; details: unknown; rateLimited: number }> {
  const env = await BenchEnvironment.create(
    emulatorSpec(sizes, sizes.budgetObservations[budget === 25 ? "25" : "900"], {
      latencyMs: 20,
      // Stripe's own limit in that mode: 25/s in test mode, 1,000/s live (where 900 is the default budget).
      rateLimitPerSecond: budget === 25 ? 25 : 1_000,
    }),
    { ledger: true, workerNodeFlags: sizes.workerNodeFlags },
  );
  try {
    const budgetEnv = { STRIPE_MAX_RPS: String(budget) };
    const syncWorker = await env.startWorker({ only: ["syncUsage"], env: budgetEnv });
    await env.sync(env.window, sizes.timeoutMs);
    await syncWorker.stop();
    const pending = await env.countRows(`select count(*) as n from usage_items where status = 'pending'`);
    // At 900/s the budget is shared by two worker processes (as a production deployment with a
    // live budget would run), which also shows the Redis limiter holding across processes.
    const processes = budget === 900 ? Math.max(2, sizes.pushProcesses) : sizes.pushProcesses;
    const pushers = [];
    for (let i = 0; i < processes; i++) {
      pushers.push(
        await env.startWorker({
          only: ["pushMeterEvents"],
          env: budgetEnv,
          pipeline: { pushConcurrency: sizes.pushConcurrency },
          maxConnections: Math.min(40, sizes.pushConcurrency),
        }),
      );
    }
    // Wait for the first accepted call, then measure a fixed window of steady pushing.
    const first = await firstAccepted(env);
    const windowEnd = first + sizes.budgetSeconds * 1000;
    await sleep(Math.max(0, windowEnd - Date.now()) + 200);
    const calls = await env.emulators.request<MeterCallsView>("meterCalls");
    const inWindow = calls.acceptedAt.filter((t) => t >= first && t < windowEnd).length;
    const rate = inWindow / sizes.budgetSeconds;
    // The remaining backlog would take minutes at 25/s: end the workers rather than drain it.
    await Promise.all(pushers.map((p) => p.host.abort()));
    return {
      use: rate / budget,
      rate,
      rateLimited: calls.rateLimited,
      details: {
        budget,
        pendingItems: pending,
        windowSeconds: sizes.budgetSeconds,
        acceptedInWindow: inWindow,
        eventsPerSecond: rate,
        rateLimited: calls.rateLimited,
        otherErrors: calls.otherErrors,
        backlogLeft: pending - calls.acceptedAt.length,
        pushProcesses: processes,
      },
    };
  } finally {
    await env.close();
  }
}

export async function runBudgets(sizes: BenchSizes): Promise<FigureReport> {
  const rows: FigureReport["rows"] = [];
  const details: Record<string, unknown> = {};
  for (const budget of [25, 900] as const) {
    const r = await runBudget(sizes, budget);
    const pct = r.use * 100;
    rows.push({
      figure: "budget",
      label: `budget use at STRIPE_MAX_RPS ${budget} (${fmt(r.rate, 1)}/s${budget === 900 ? ", 2 worker processes" : ""}), 429s`,
      value: `${fmt(pct, 1)}%, ${r.rateLimited}`,
      target: "90–100%, 0",
      met: pct >= 90 && pct <= 100 && r.rateLimited === 0,
    });
    details[`maxRps${budget}`] = r.details;
  }
  return { rows, details };
}
