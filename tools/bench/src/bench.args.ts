import { parseArgs } from "node:util";
import { FIGURE_IDS, type FigureId } from "./bench.types";

export class BenchArgumentError extends Error {
  override readonly name = "BenchArgumentError";
}

export interface BenchArgs {
  only: FigureId[];
  /** Multiplies every data size (observations); 1 = the sizes. */
  size: number;
  smoke: boolean;
  /** Overrides of the push knobs, to explore (`--push-concurrency 128 --push-processes 2`). */
  pushConcurrency?: number;
  pushProcesses?: number;
  /** Directory for `node --cpu-prof` profiles of every worker child (`--profile DIR`). */
  profileDir?: string;
}

function isFigure(value: string): value is FigureId {
  return (FIGURE_IDS as readonly string[]).includes(value);
}

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: "string" },
      size: { type: "string" },
      smoke: { type: "boolean" },
      "push-concurrency": { type: "string" },
      "push-processes": { type: "string" },
      profile: { type: "string" },
    },
  });
  const only = (values.only ?? FIGURE_IDS.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = only.filter((f) => !isFigure(f));
  if (bad.length > 0)
    throw new BenchArgumentError(
      `--only: unknown figure ${bad.join(", ")} (one of ${FIGURE_IDS.join(", ")})`,
    );
  const size = values.size === undefined ? 1 : Number(values.size);
  if (!(size > 0)) throw new BenchArgumentError(`--size: a positive number, got ${values.size}`);
  const positive = (name: string, raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1)
      throw new BenchArgumentError(`--${name}: a positive integer, got ${raw}`);
    return n;
  };
  const pushConcurrency = positive("push-concurrency", values["push-concurrency"]);
  const pushProcesses = positive("push-processes", values["push-processes"]);
  return {
    only: only.filter(isFigure),
    size,
    smoke: values.smoke === true,
    ...(pushConcurrency === undefined ? {} : { pushConcurrency }),
    ...(pushProcesses === undefined ? {} : { pushProcesses }),
    ...(values.profile === undefined ? {} : { profileDir: values.profile }),
  };
}
