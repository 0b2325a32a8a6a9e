/**
 * `pnpm test:chaos` (full) and `pnpm test:chaos:smoke` (CI): the chaos run, the Redis-wipe
 * phase, then the API load run; prints the summaries and exits non-zero when anything was lost,
 * billed twice, slow, late to resume after the wipe, or when `/quota` answered wrong.
 * `--redis-wipe` alone runs only the wipe phase.
 */

import { runChaos } from "./chaos.run";
import { FULL_PLAN, RESTARTS_PLAN, SMOKE_PLAN } from "./chaos-plan";
import { runLoad } from "./load.run";
import { REDIS_WIPE_OPTIONS, runRedisWipe } from "./redis-wipe.run";
import { renderTable } from "./summary.table";

const wipeOnly =
  process.argv.includes("--redis-wipe") &&
  !["--smoke", "--restarts", "--full"].some((flag) => process.argv.includes(flag));
const chosen = process.argv.includes("--smoke")
  ? SMOKE_PLAN
  : process.argv.includes("--restarts")
    ? RESTARTS_PLAN
    : FULL_PLAN;
// `--seed N` replays the same plan with other traffic, kill points and fault draws.
const seedAt = process.argv.indexOf("--seed");
const seed = seedAt >= 0 ? Number(process.argv[seedAt + 1]) : chosen.seed;
if (!Number.isInteger(seed)) {
  process.stderr.write(`--seed: an integer, got ${process.argv[seedAt + 1]}\n`);
  process.exit(2);
}
const plan = { ...chosen, seed };
const log = (line: string) => process.stdout.write(`${line}\n`);
const failures: string[] = [];
try {
  if (!wipeOnly && (plan.restartRedis || plan.restartPostgres)) {
    log("WARNING: this run restarts the machine's Redis and Postgres; do not run other tests meanwhile.");
  }
  if (!wipeOnly) {
    const chaos = await runChaos(plan, log);
    log(renderTable(`chaos (${plan.name}), ${(chaos.durationMs / 1000).toFixed(0)} s`, chaos.verdict.rows));
    failures.push(...chaos.verdict.failures);
  }
  if (wipeOnly || plan.redisWipe || process.argv.includes("--redis-wipe")) {
    const wipe = await runRedisWipe(REDIS_WIPE_OPTIONS, log);
    log(
      renderTable(`Redis wiped under a running worker, ${(wipe.durationMs / 1000).toFixed(0)} s`, wipe.rows),
    );
    failures.push(...wipe.failures);
  }
  if (!wipeOnly && plan.loadSeconds > 0) {
    log(`load: ${plan.loadRps} req/s for ${plan.loadSeconds} s on loopback`);
    const load = await runLoad(
      { seconds: plan.loadSeconds, rps: plan.loadRps, enforceLatency: plan.name === "full" },
      log,
    );
    log(renderTable("API load", load.rows));
    failures.push(...load.failures);
  }
} catch (error) {
  failures.push(error instanceof Error ? (error.stack ?? error.message) : String(error));
}
if (failures.length > 0) {
  log("\nFAILED:");
  for (const f of failures) log(`  - ${f}`);
  process.exit(1);
}
log(
  wipeOnly
    ? "\nPASSED: scheduled work resumed in time after each wipe, /quota never wrong."
    : "\nPASSED: nothing missing, nothing billed twice.",
);
process.exit(0);
