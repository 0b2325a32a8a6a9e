import type { Command } from "commander";

// Actions load their modules lazily, so `sparks --help` and light commands start fast.
export function registerStart(program: Command, env: NodeJS.ProcessEnv, repoRoot: string): void {
  const run = async (parts: ("api" | "worker")[], demo = true) => {
    const { runSparks } = await import("./start.action");
    await runSparks(env, parts, repoRoot, { demo });
  };
  program
    .command("start")
    .description(
      "API + workers + schedulers in one process (the local default; without Langfuse/Stripe keys: demo mode on local emulators)",
    )
    .option("--no-demo", "never start the demo emulators, even without keys")
    .action((opts: { demo: boolean }) => run(["api", "worker"], opts.demo));
  program
    .command("api")
    .description("the HTTP API alone (production; requires DATABASE_URL)")
    .action(() => run(["api"]));
  program
    .command("worker")
    .description("the workers and schedulers alone (production; requires DATABASE_URL)")
    .action(() => run(["worker"]));
}
