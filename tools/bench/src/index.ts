export { type BenchArgs, BenchArgumentError, parseBenchArgs } from "./bench.args";
export { type BenchOutcome, runBench } from "./bench.runner";
export { type BenchSizes, benchSizes, FIGURE_IDS, type FigureId, type FigureRow } from "./bench.types";
export {
  type NaiveBaselineOptions,
  type NaiveBaselineResult,
  runNaiveBaseline,
} from "./naive-baseline/naive-baseline";
