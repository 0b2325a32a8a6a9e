export interface SpikeOptions {
  /** Last hour must reach `factor` × the trailing hourly average (e.g. 3). */
  factor: number;
  /** ...and at least this much in absolute terms, so 2 → 10 Sparks is not a "spike". */
  minimum: number;
}

export interface SpikeVerdict {
  spike: boolean;
  /** lastHour / trailing average; null when there is no history (average 0). */
  ratio: number | null;
}

export const DEFAULT_SPIKE_OPTIONS: SpikeOptions = { factor: 3, minimum: 1_000 };

/**
 * Pure: is the last hour's usage a spike against the trailing hourly average? With no history
 * (average 0) only the absolute minimum applies, so a brand-new heavy user is reported once
 * it crosses the minimum.
 */
export function detectSpike(
  lastHour: number,
  trailingHourlyAverage: number,
  options: SpikeOptions = DEFAULT_SPIKE_OPTIONS,
): SpikeVerdict {
  if (!Number.isFinite(lastHour) || !Number.isFinite(trailingHourlyAverage)) {
    throw new RangeError("detectSpike: usage figures must be finite numbers");
  }
  if (!(options.factor > 0) || options.minimum < 0) {
    throw new RangeError("detectSpike: factor must be > 0 and minimum ≥ 0");
  }
  const average = Math.max(0, trailingHourlyAverage);
  const ratio = average > 0 ? lastHour / average : null;
  const aboveMinimum = lastHour >= options.minimum && lastHour > 0;
  const aboveFactor = ratio === null || ratio >= options.factor;
  return { spike: aboveMinimum && aboveFactor, ratio };
}
