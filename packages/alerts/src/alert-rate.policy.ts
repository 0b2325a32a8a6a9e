const HOUR_MS = 3_600_000;

/** Default: at most this many alerts of one kind per UTC hour; the rest fold into a summary. */
export const DEFAULT_ALERTS_PER_KIND_PER_HOUR = 10;

export interface RateWindow {
  start: Date;
  end: Date;
}

/** The fixed UTC-hour window `at` falls in (fixed windows make the summary's moment obvious). */
export function rateWindow(at: Date): RateWindow {
  const start = Math.floor(at.getTime() / HOUR_MS) * HOUR_MS;
  return { start: new Date(start), end: new Date(start + HOUR_MS) };
}

/** Pure: is an alert beyond the budget, given how many of its kind were already let through? */
export function isOverBudget(alreadyDelivered: number, perHour: number): boolean {
  return alreadyDelivered >= perHour;
}
