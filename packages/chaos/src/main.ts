/**
 * `pnpm test:chaos` (full) and `pnpm test:chaos:smoke` (CI): the chaos run, then the API load
 * run; prints both summaries and exits non-zero when anything was lost, billed twice, or slow.
 */

import { runChaos } from "./chaos.run";
import { FULL_PLAN, SMOKE_PLAN } from "./chaos-plan";
import { runLoad } from "./load.run";
import { renderTable } from "./summary.table";

const plan = process.argv.includes("--smoke") ? SMOKE_PLAN : FULL_PLAN;
const log = (line: string) => process.stdout.write(`${line}\n`);
const failures: string[] = [];
try {
  if (plan.restartRedis || plan.restartPostgres) {
    log("WARNING: this run restarts the machine's Redis and Postgres; do not run other tests meanwhile.");
  }
  const chaos = await runChaos(plan, log);
  log(renderTable(`chaos (${plan.name}), ${(chaos.durationMs / 1000).toFixed(0)} s`, chaos.verdict.rows));
  failures.push(...chaos.verdict.failures);
  log(`load: ${plan.loadRps} req/s for ${plan.loadSeconds} s on loopback`);
  const load = await runLoad(
    { seconds: plan.loadSeconds, rps: plan.loadRps, enforceLatency: plan.name === "full" },
    log,
  );
  log(renderTable("API load", load.rows));
  failures.push(...load.failures);
} catch (error) {
  failures.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
}
if (failures.length > 0) {
  log("\nFAILED:");
  for (const f of failures) log(`  - ${f}`);
  process.exit(1);
}
log("\nPASSED: nothing missing, nothing billed twice.");
process.exit(0);
