import { resolve } from "node:path";
import { parseBenchArgs } from "./bench.args";
import { runBench } from "./bench.runner";

const args = parseBenchArgs(process.argv.slice(2));
const outcome = await runBench(args, {
  // The smoke (CI) writes apart, so it never overwrites the figures of the last full run.
  resultsPath: resolve(
    import.meta.dirname,
    `../../../.bench/${args.smoke ? "smoke-results" : "results"}.json`,
  ),
  log: (line) => process.stdout.write(`${line}\n`),
});
process.exit(outcome.ok ? 0 : 1);
