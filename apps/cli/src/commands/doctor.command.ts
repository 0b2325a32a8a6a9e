import type { Command } from "commander";
import { CliError } from "../cli-error";

/**
 * `sparks doctor [--json]`: checks a live configuration end to end, read-only, one line per
 * check with ✓/✗ and the fix. Exit 1 when any check fails. `--json` prints
 * `{version: 1, ok, checks: [{id, status, summary, fix}]}` (status ok | fail | skip).
 */
export function registerDoctor(program: Command, env: NodeJS.ProcessEnv): void {
  program
    .command("doctor")
    .description(
      "check the configuration end to end (database, Redis, Stripe, Langfuse, Auth0, alerts); read-only",
    )
    .option("--json", "print the result as JSON")
    .action(async (opts: { json?: boolean }) => {
      const { formatReport } = await import("../doctor/doctor-check");
      const { runDoctor } = await import("../doctor/run-doctor");
      const report = await runDoctor(env);
      process.stdout.write(
        opts.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report),
      );
      if (!report.ok) {
        const failed = report.checks.filter((c) => c.status === "fail").map((c) => c.id);
        throw new CliError(`doctor: ${failed.length} check(s) failed: ${failed.join(", ")}`);
      }
    });
}
