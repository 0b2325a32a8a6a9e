import { resolve } from "node:path";
import { parseBenchArgs } from "./bench.args";
import { runBench } from "./bench.runner";

const args = parseBenchArgs(process.argv.slice(2));
const outcome = await runBench(args, {
  resultsPath: resolve(import.meta.dirname, "../../../.bench/results.json"),
  log: (line) => process.stdout.write(`${line}\n`),
});
process.exit(outcome.ok ? 0 : 1);
