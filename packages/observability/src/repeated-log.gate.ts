/**
 * Lets the first of a run of identical log lines through and counts the rest, so a noisy but
 * harmless condition (an alert with no channel configured) is one line, then one line per
 * `windowMs` saying how many were folded, instead of one line per occurrence.
 */
export class RepeatedLogGate {
  private readonly runs = new Map<string, { lastLoggedMs: number; folded: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether to log this occurrence of `key`, and how many earlier ones were folded since the
   * last line (0 the first time). `null`: fold this one (count it, log nothing).
   */
  admit(key: string): { repeated: number } | null {
    const nowMs = this.now();
    const run = this.runs.get(key);
    if (!run) {
      this.runs.set(key, { lastLoggedMs: nowMs, folded: 0 });
      return { repeated: 0 };
    }
    if (nowMs - run.lastLoggedMs < this.windowMs) {
      run.folded += 1;
      return null;
    }
    const repeated = run.folded;
    run.lastLoggedMs = nowMs;
    run.folded = 0;
    return { repeated };
  }
}
