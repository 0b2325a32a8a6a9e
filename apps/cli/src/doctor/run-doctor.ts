import { ConfigError, loadConfig } from "@sparks/config";
import { type CheckResult, type DoctorReport, fail, ok, skip, toReport } from "./doctor-check";
import { checkAuth0, checkLangfuse } from "./identity-sources.checks";
import { checkAlerts, checkPostgres, checkRedis } from "./infra.checks";
import { checkStripe } from "./stripe.checks";

const AFTER_ENV = [
  "postgres",
  "redis",
  "stripe.key",
  "stripe.catalog",
  "stripe.webhook",
  "stripe.anchors",
  "langfuse",
  "auth0",
  "alerts",
];

/**
 * Every check, read-only: nothing is created, sent or changed (no meter event, no migration,
 * no Slack post). Independent checks run side by side, so a slow host costs one timeout.
 */
export async function runDoctor(env: NodeJS.ProcessEnv): Promise<DoctorReport> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return toReport([
      fail("env", e.message, "fix that variable; every other check needs a valid environment"),
      ...AFTER_ENV.map((id) => skip(id, "not checked", "the environment did not parse")),
    ]);
  }
  const [postgres, redis, stripe, langfuse, auth0] = await Promise.all([
    checkPostgres(config),
    checkRedis(config),
    checkStripe(config),
    checkLangfuse(config),
    checkAuth0(config),
  ]);
  const checks: CheckResult[] = [
    ok("env", "environment parsed"),
    postgres,
    redis,
    ...stripe,
    langfuse,
    auth0,
    checkAlerts(config),
  ];
  return toReport(checks);
}
