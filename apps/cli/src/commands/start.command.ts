import type { Command } from "commander";

// Actions load their modules lazily, so `sparks --help` and light commands start fast.
export function registerStart(program: Command, env: NodeJS.ProcessEnv, repoRoot: string): void {
  const run = async (parts: ("api" | "worker")[]) => {
    const { runSparks } = await import("./start.action");
    await runSparks(env, parts, repoRoot);
  };
  program
    .command("start")
    .description("API + workers + schedulers in one process (the local default)")
    .action(() => run(["api", "worker"]));
  program
    .command("api")
    .description("the HTTP API alone (production; requires DATABASE_URL)")
    .action(() => run(["api"]));
  program
    .command("worker")
    .description("the workers and schedulers alone (production; requires DATABASE_URL)")
    .action(() => run(["worker"]));
}
