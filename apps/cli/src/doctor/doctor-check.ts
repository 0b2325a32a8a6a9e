/** Bumped only when the `--json` shape changes incompatibly. */
export const DOCTOR_JSON_VERSION = 1;

export type CheckStatus = "ok" | "fail" | "skip";

/** One line of `sparks doctor`: what was found and, when it is wrong, what to do about it. */
export interface CheckResult {
  /** Stable id, e.g. `stripe.webhook` (scripts key on it). */
  id: string;
  status: CheckStatus;
  summary: string;
  /** The fix, when status is `fail` (or why it was skipped); null when ok. */
  fix: string | null;
}

export interface DoctorReport {
  version: typeof DOCTOR_JSON_VERSION;
  ok: boolean;
  checks: CheckResult[];
}

export const ok = (id: string, summary: string): CheckResult => ({ id, status: "ok", summary, fix: null });
export const fail = (id: string, summary: string, fix: string): CheckResult => ({
  id,
  status: "fail",
  summary,
  fix,
});
export const skip = (id: string, summary: string, why: string): CheckResult => ({
  id,
  status: "skip",
  summary,
  fix: why,
});

/** A skipped check never makes the report fail by itself: it is skipped because another failed. */
export function toReport(checks: CheckResult[]): DoctorReport {
  return { version: DOCTOR_JSON_VERSION, ok: checks.every((c) => c.status !== "fail"), checks };
}

const MARK: Record<CheckStatus, string> = { ok: "✓", fail: "✗", skip: "–" };

/** One line per check: `✓ id  summary`, or `✗ id  summary — fix: …`. */
export function formatReport(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.id.length));
  const lines = report.checks.map((c) => {
    const head = `${MARK[c.status]} ${c.id.padEnd(width)}  ${c.summary}`;
    if (c.status === "fail") return `${head} — fix: ${c.fix}`;
    if (c.status === "skip") return `${head} (${c.fix})`;
    return head;
  });
  const failed = report.checks.filter((c) => c.status === "fail").length;
  lines.push(
    failed === 0
      ? `All ${report.checks.length} checks passed.`
      : `${failed} of ${report.checks.length} checks failed.`,
  );
  return `${lines.join("\n")}\n`;
}

/** Bounds every network call of a check: doctor answers in seconds, also when a host is down. */
export const CHECK_TIMEOUT_MS = 5_000;

export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // fetch, drizzle and ioredis wrap the socket error; its code (ECONNREFUSED, ENOTFOUND) is the news.
  let code: string | null = null;
  let cause: unknown = e;
  for (let depth = 0; depth < 4 && cause && typeof cause === "object"; depth++) {
    const c = cause as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof c.code === "string") code = c.code;
    cause = c.cause ?? c.errors?.[0];
  }
  const message = e.message.split("\n")[0] ?? "";
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
