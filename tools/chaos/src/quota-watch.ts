/** One `/quota` answer as the wipe phase's poller saw it. */
export interface QuotaSample {
  customerId: string;
  /** HTTP status; 0 when the request itself failed. */
  status: number;
  used: number | null;
  allowed: boolean | null;
  reason: string | null;
  /** `live`, `rebuilding` or `unavailable` (the API's word for where the numbers came from). */
  counters: string | null;
}

/** What the ledger says the answer is: the customer's billed usage and whether a run may go. */
export interface QuotaTruth {
  used: number;
  allowed: boolean;
}

/**
 * Wrong means unsafe for billing: fewer sparks than the ledger holds (the `used: 0` of a wiped
 * Redis), or a run allowed for a customer who is over quota. A refusal with
 * `counters_unavailable` while the counters are rebuilt is the tier's fail policy, not a wrong
 * answer; an error status is counted apart (no answer is not a wrong answer).
 */
export function isWrongAnswer(sample: QuotaSample, truth: QuotaTruth): boolean {
  if (sample.status !== 200) return false;
  if (sample.used === null || sample.used < truth.used) return true;
  return !truth.allowed && sample.allowed === true;
}

export interface QuotaWatchFigures {
  rounds: number;
  /** Seconds during which at least one customer's answer was wrong. */
  wrongSeconds: number;
  wrongAnswers: number;
  /** Answers from the ledger while the counters were rebuilt or unreachable (not wrong). */
  degradedAnswers: number;
  errorAnswers: number;
  /** The last wrong answer seen, for the log. */
  lastWrong: QuotaSample | null;
}

/**
 * Continuous `/quota` samples in rounds (every watched customer asked at once). A wrong
 * round counts as wrong until the next round's start: nothing better was known in between, so
 * the figure errs on the side of more wrong seconds, never fewer.
 */
export class QuotaWatch {
  private readonly rounds: Array<{ at: number; samples: QuotaSample[] }> = [];

  constructor(private readonly truth: ReadonlyMap<string, QuotaTruth>) {}

  record(at: number, samples: QuotaSample[]): void {
    this.rounds.push({ at, samples });
  }

  /** The newest round's answers, e.g. to see whether the counters are live again. */
  latest(): QuotaSample[] {
    return this.rounds.at(-1)?.samples ?? [];
  }

  private wrong(sample: QuotaSample): boolean {
    const truth = this.truth.get(sample.customerId);
    return truth !== undefined && isWrongAnswer(sample, truth);
  }

  /**
   * When, in [from, to), every answer was live (from the Redis counters) again after the last
   * round that was not: `from` itself when the counters never stopped being live, null when
   * they were not live again by `to`.
   */
  liveAgainAt(from: number, to: number): number | null {
    let lastDegraded: number | null = null;
    let firstLiveAfter: number | null = from;
    for (const round of this.rounds) {
      if (round.at < from || round.at >= to) continue;
      const live = round.samples.every((s) => s.status === 200 && s.counters === "live");
      if (!live) {
        lastDegraded = round.at;
        firstLiveAfter = null;
      } else if (lastDegraded !== null && firstLiveAfter === null) {
        firstLiveAfter = round.at;
      }
    }
    return firstLiveAfter;
  }

  /** Figures for the rounds started in [from, to). */
  figures(from: number, to: number): QuotaWatchFigures {
    const out: QuotaWatchFigures = {
      rounds: 0,
      wrongSeconds: 0,
      wrongAnswers: 0,
      degradedAnswers: 0,
      errorAnswers: 0,
      lastWrong: null,
    };
    for (let i = 0; i < this.rounds.length; i++) {
      const round = this.rounds[i];
      if (!round || round.at < from || round.at >= to) continue;
      out.rounds += 1;
      let wrongRound = false;
      for (const sample of round.samples) {
        if (sample.status !== 200) out.errorAnswers += 1;
        else if (this.wrong(sample)) {
          out.wrongAnswers += 1;
          out.lastWrong = sample;
          wrongRound = true;
        } else if (sample.counters !== "live") out.degradedAnswers += 1;
      }
      if (wrongRound) out.wrongSeconds += (Math.min(this.rounds[i + 1]?.at ?? to, to) - round.at) / 1000;
    }
    return out;
  }
}
