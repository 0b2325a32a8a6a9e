import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { debugEnabled } from "@sparks/config";
import { Command, CommanderError } from "commander";
import { registerBackfill } from "./commands/backfill.command";
import { registerDoctor } from "./commands/doctor.command";
import { registerEmulate } from "./commands/emulate.command";
import { registerErrors } from "./commands/errors.command";
import { registerMigrate } from "./commands/migrate.command";
import { registerMonthClose } from "./commands/month-close.command";
import { registerQuotaCap } from "./commands/quota-cap.command";
import { registerRateSet } from "./commands/rate-set.command";
import { registerReconcile } from "./commands/reconcile.command";
import { registerRelay } from "./commands/relay.command";
import { registerReport } from "./commands/report.command";
import { registerStart } from "./commands/start.command";
import { registerStripeAnchors } from "./commands/stripe-anchors.command";
import { registerStripeSetup } from "./commands/stripe-setup.command";
import { registerSync } from "./commands/sync.command";
import { runCommand } from "./run-command";
import { USAGE_EXIT_CODE, unknownCommandMessage } from "./unknown-command";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
// The environment is read here, once; each command parses what it needs through @sparks/config.
const env = process.env;

const program = new Command("sparks")
  .description("Sparks: bill Langfuse-traced AI usage through Stripe, exactly once")
  .showHelpAfterError()
  .exitOverride();

registerStart(program, env, repoRoot);
registerMigrate(program, env);
registerStripeSetup(program, env);
registerStripeAnchors(program, env);
registerEmulate(program);
registerRelay(program, env);
registerSync(program, env);
registerBackfill(program, env);
registerReport(program, env);
registerErrors(program, env);
registerReconcile(program, env);
registerMonthClose(program, env);
registerRateSet(program, env);
registerQuotaCap(program, env);
registerDoctor(program, env);

await runCommand(async () => {
  const unknown = unknownCommandMessage(program, process.argv.slice(2));
  if (unknown) {
    process.stderr.write(`sparks: ${unknown}\n`);
    return USAGE_EXIT_CODE;
  }
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    // commander's own exits (help, version, usage errors) already printed their text.
    if (e instanceof CommanderError) return e.exitCode;
    throw e;
  }
  return 0;
}, debugEnabled(env));
