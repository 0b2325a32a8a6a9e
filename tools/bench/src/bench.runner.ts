import { resolve } from "node:path";
import type { BenchArgs } from "./bench.args";
import { benchSizes, type FigureId, type FigureReport, type FigureRow } from "./bench.types";
import { runBudgets } from "./figures/budget.scenario";
import { runEndToEnd } from "./figures/e2e.scenario";
import { runIngestAndPush } from "./figures/ingest-push.scenario";
import { runLangfuseV1 } from "./figures/langfuse-v1.scenario";
import { runQuota } from "./figures/quota.scenario";
import { runQuotaFreshness } from "./figures/quota-fresh.scenario";
import { runRss } from "./figures/rss.scenario";
import { describeMachine, formatTable, writeResults } from "./report";

export interface BenchOutcome {
  ok: boolean;
  rows: FigureRow[];
  failures: string[];
}

interface Scenario {
  name: string;
  figures: FigureId[];
  run(): Promise<FigureReport>;
}

/** Runs the scenarios that produce the requested figures, one after another, and reports. */
export async function runBench(
  args: BenchArgs,
  io: { resultsPath: string; log(line: string): void },
): Promise<BenchOutcome> {
  const sizes = {
    ...benchSizes(args.size, args.smoke),
    ...(args.pushConcurrency === undefined ? {} : { pushConcurrency: args.pushConcurrency }),
    ...(args.pushProcesses === undefined ? {} : { pushProcesses: args.pushProcesses }),
    ...(args.profileDir === undefined
      ? {}
      : { workerNodeFlags: ["--cpu-prof", `--cpu-prof-dir=${resolve(args.profileDir)}`] }),
  };
  const wants = (f: FigureId) => args.only.includes(f);
  const scenarios: Scenario[] = [
    {
      name: "ingest + push (v2)",
      figures: ["ingest", "push", "langfuse-requests"],
      run: () => runIngestAndPush(sizes, wants("push")),
    },
    { name: "Langfuse v1", figures: ["langfuse-requests"], run: () => runLangfuseV1(sizes) },
    { name: "Stripe budget", figures: ["budget"], run: () => runBudgets(sizes) },
    { name: "backfill RSS", figures: ["rss"], run: () => runRss(sizes) },
    { name: "GET /quota", figures: ["quota"], run: () => runQuota(sizes) },
    { name: "quota freshness", figures: ["quota-fresh"], run: () => runQuotaFreshness(sizes) },
    { name: "end-to-end vs naive", figures: ["e2e"], run: () => runEndToEnd(sizes) },
  ];
  const startedAt = new Date();
  const machineBefore = describeMachine();
  const rows: FigureRow[] = [];
  const failures: string[] = [];
  const details: Record<string, unknown> = {};
  const runOne = async (scenario: Scenario) => {
    const t0 = performance.now();
    try {
      const report = await scenario.run();
      const mine = report.rows.filter((r) => wants(r.figure));
      rows.push(...mine);
      failures.push(...(report.failures ?? []));
      details[scenario.name] = { ...report.details, seconds: (performance.now() - t0) / 1000 };
      for (const r of mine) io.log(`  ${r.label}: ${r.value} (target ${r.target})`);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      failures.push(`${scenario.name}: ${message}`);
      io.log(`  FAILED ${scenario.name}: ${message}`);
    }
  };
  const selected = scenarios.filter((s) => s.figures.some(wants));
  if (sizes.smoke) {
    // The smoke only proves that every scenario runs and that totals agree; its figures mean
    // nothing, so the scenarios run side by side to keep CI in seconds rather than minutes.
    io.log(`… ${selected.map((s) => s.name).join(", ")} (smoke: concurrently)`);
    await Promise.all(selected.map(runOne));
  } else {
    for (const scenario of selected) {
      io.log(`… ${scenario.name}`);
      await runOne(scenario);
    }
  }
  const machine = { ...describeMachine(), loadAverageAtStart: machineBefore.loadAverage };
  io.log("");
  io.log(formatTable(rows));
  io.log("");
  io.log(
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, node ${machine.node}; load average ${machine.loadAverageAtStart.join(" ")} (start) → ${machine.loadAverage.join(" ")} (end)`,
  );
  await writeResults(io.resultsPath, {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    args,
    sizes,
    machine,
    figures: rows,
    details,
    failures,
  });
  io.log(`results: ${io.resultsPath}`);
  if (failures.length > 0) io.log(`\n${failures.length} failure(s):\n${failures.join("\n")}`);
  // Smoke: it ran and totals matched. Full: a missed target is reported, not an error.
  return { ok: failures.length === 0, rows, failures };
}
