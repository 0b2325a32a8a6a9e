/**
 * `pnpm --filter @sparks/chaos load [--seconds N] [--rps N] [--cpu-prof DIR]`: only the API
 * load run of the chaos suite (item 7), without the chaos part, for measuring the API before
 * and after a change. `--cpu-prof DIR` writes a V8 CPU profile of the API process there.
 */
import { resolve } from "node:path";
import { runLoad } from "./load.run";
import { renderTable } from "./summary.table";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seconds = Number(flag("seconds") ?? 60);
const rps = Number(flag("rps") ?? 500);
const profileDir = flag("cpu-prof");
const log = (line: string) => process.stdout.write(`${line}\n`);
log(`load: ${rps} req/s for ${seconds} s on loopback`);
const result = await runLoad(
  {
    seconds,
    rps,
    enforceLatency: true,
    ...(profileDir ? { apiNodeArgs: ["--cpu-prof", `--cpu-prof-dir=${resolve(profileDir)}`] } : {}),
  },
  log,
);
log(renderTable("API load", result.rows));
if (result.failures.length > 0) {
  log("\nFAILED:");
  for (const f of result.failures) log(`  - ${f}`);
  process.exit(1);
}
log("\nPASSED");
process.exit(0);
