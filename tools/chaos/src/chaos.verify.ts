import { executeRows } from "@sparks/db";
import type { ChaosEnvironment } from "./chaos-environment";
import type { ChaosPlan } from "./chaos-plan";
import { type ExpectedUsage, stripeByGroup } from "./expected-usage";
import type { WorkerFleet } from "./worker-fleet";

export interface ChaosVerdict {
  /** Summary rows: label → value. */
  rows: Array<[string, string | number]>;
  /** Empty when the run passed. */
  failures: string[];
}

export interface VerifyInput {
  plan: ChaosPlan;
  env: ChaosEnvironment;
  expected: ExpectedUsage;
  fleet: WorkerFleet;
  syncs: number;
  pendingAtRedisWipe: number | null;
  healed: boolean;
}

const METER_EVENTS = "/v1/billing/meter_events";

export async function verifyChaos(input: VerifyInput): Promise<ChaosVerdict> {
  const { plan, env, expected, fleet } = input;
  const failures: string[] = [];
  const events = env.stripe.recording.meterEvents();
  const seen = new Map<string, number>();
  for (const e of events) seen.set(e.identifier, (seen.get(e.identifier) ?? 0) + 1);
  const doubleBilled = [...seen.values()].filter((n) => n > 1).length;
  const missing = [...expected.identifiers.keys()].filter((id) => !seen.has(id));
  const unexpected = [...seen.keys()].filter((id) => !expected.identifiers.has(id));

  const stripe = stripeByGroup(events);
  let groupsWrong = 0;
  for (const key of new Set([...stripe.keys(), ...expected.wholeByGroup.keys()])) {
    const got = stripe.get(key) ?? 0;
    const want = expected.wholeByGroup.get(key) ?? 0;
    if (got !== want) {
      groupsWrong++;
      if (groupsWrong <= 5) failures.push(`group ${key}: Stripe ${got}, exact ${want}`);
    }
  }

  const requests = env.stripe.recording.filter({ path: METER_EVENTS });
  const faults = new Map<string, number>();
  for (const r of requests) if (r.fault) faults.set(r.fault, (faults.get(r.fault) ?? 0) + 1);
  const duplicatesPrevented = requests.filter(
    (r) => r.status === 400 && (r.error?.message ?? "").includes("already exists"),
  ).length;
  const lf429 = env.langfuse.stats.count({ status: 429 });
  const lf500 = env.langfuse.stats.count({ status: 500 });

  const statusRows = await executeRows<{ status: string; n: unknown }>(
    env.database.database.db,
    "select status, count(*) as n from usage_items group by status order by status",
  );
  const ledger = statusRows.map((r) => `${r.status} ${Number(r.n)}`).join(", ");
  const workerLogs = fleet.logs();
  const leaked = [env.env.STRIPE_SECRET_KEY, env.env.LANGFUSE_SECRET_KEY].filter(
    (secret): secret is string => secret !== undefined && workerLogs.includes(secret),
  );

  if (missing.length > 0) failures.push(`${missing.length} items never billed (e.g. ${missing[0]})`);
  if (doubleBilled > 0) failures.push(`${doubleBilled} identifiers accepted twice by Stripe`);
  if (unexpected.length > 0)
    failures.push(`${unexpected.length} unexpected identifiers (e.g. ${unexpected[0]})`);
  if (groupsWrong > 0) failures.push(`${groupsWrong} customer/meter/month totals differ from the exact rule`);
  if (fleet.kills < plan.kills) failures.push(`only ${fleet.kills} of ${plan.kills} SIGKILLs happened`);
  if (fleet.crashes > 0) {
    failures.push(`${fleet.crashes} worker processes crashed on their own`, ...fleet.crashReports);
  }
  if (!input.healed) failures.push("the ledger never drained");
  if (leaked.length > 0) failures.push("a secret appeared in the worker logs");
  if (plan.restartRedis && input.pendingAtRedisWipe === null) failures.push("Redis was never restarted");

  const rows: Array<[string, string | number]> = [
    ["traces generated", plan.traces],
    ["billable items (exact)", expected.identifiers.size],
    ["customer/meter/month groups", expected.wholeByGroup.size],
    ["worker SIGKILLs", fleet.kills],
    ["worker crashes (not ours)", fleet.crashes],
    ["Redis restarts (no persistence)", plan.restartRedis ? 1 : 0],
    ["  items unsent in Postgres at the wipe", input.pendingAtRedisWipe ?? "-"],
    ["Postgres restarts", plan.restartPostgres ? 1 : 0],
    ["Stripe 500 injected", faults.get("server_error") ?? 0],
    ["Stripe 429 + Should-Retry injected", faults.get("rate_limit_should_retry") ?? 0],
    ["Stripe 429 injected", faults.get("rate_limit") ?? 0],
    ["Stripe hangs past timeout injected", faults.get("hang") ?? 0],
    ["Langfuse 429 + Retry-After injected", lf429],
    ["Langfuse 500 injected", lf500],
    ["meter-event calls", requests.length],
    ["syncs requested", input.syncs],
    ["items billed (accepted events)", events.length],
    ["duplicates prevented (identifier exists)", duplicatesPrevented],
    ["double-billed", doubleBilled],
    ["missing", missing.length],
    ["totals differing from exact", groupsWrong],
    ["ledger", ledger],
    ["secrets in worker logs", leaked.length],
  ];
  return { rows, failures };
}
