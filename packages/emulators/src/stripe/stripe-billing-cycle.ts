import type { BillingCycleAnchorConfig } from "./stripe.types";

function daysIn(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** `day` of the month `months` after the month of `sec`, clamped to its last day, at a time of day. */
function dayInMonth(year: number, month0: number, day: number, h: number, m: number, s: number): number {
  const y = year + Math.floor(month0 / 12);
  const mo = ((month0 % 12) + 12) % 12;
  return Math.floor(Date.UTC(y, mo, Math.min(day, daysIn(y, mo)), h, m, s) / 1000);
}

/**
 * The anchor `billing_cycle_anchor_config` sets: the next occurrence, at or after `startSec`,
 * of `day_of_month` (clamped to shorter months) at `hour:minute:second` UTC. An omitted hour,
 * minute or second takes the start's own time of day, which is why Sparks passes all three.
 */
export function anchorFromConfig(startSec: number, cfg: BillingCycleAnchorConfig): number {
  const start = new Date(startSec * 1000);
  const h = cfg.hour ?? start.getUTCHours();
  const m = cfg.minute ?? start.getUTCMinutes();
  const s = cfg.second ?? start.getUTCSeconds();
  const y = start.getUTCFullYear();
  let month0 = start.getUTCMonth();
  if (cfg.month !== null) {
    // Yearly prices: the anchor's month (the next one on or after the start's month).
    month0 = cfg.month - 1 < month0 ? cfg.month - 1 + 12 : cfg.month - 1;
  }
  let anchor = dayInMonth(y, month0, cfg.day_of_month, h, m, s);
  if (anchor < startSec)
    anchor = dayInMonth(y, month0 + (cfg.month !== null ? 12 : 1), cfg.day_of_month, h, m, s);
  return anchor;
}

/**
 * The first period end after `afterSec` on a cycle anchored at `anchorSec`: the anchor plus a
 * whole number of intervals. Months keep the anchor's day (`anchorDay`, 31 stays 31 after a
 * 30-day month), clamped to each month's last day, as Stripe's monthly cycles do.
 */
export function nextPeriodEnd(
  anchorSec: number,
  afterSec: number,
  interval: string,
  count: number,
  anchorDay?: number,
): number {
  if (anchorSec > afterSec) return anchorSec;
  if (interval === "day" || interval === "week") {
    const step = (interval === "day" ? 86_400 : 7 * 86_400) * count;
    return anchorSec + (Math.floor((afterSec - anchorSec) / step) + 1) * step;
  }
  const a = new Date(anchorSec * 1000);
  const day = anchorDay ?? a.getUTCDate();
  const stepMonths = (interval === "year" ? 12 : 1) * count;
  const after = new Date(afterSec * 1000);
  let k = Math.max(
    0,
    Math.floor(
      ((after.getUTCFullYear() - a.getUTCFullYear()) * 12 + after.getUTCMonth() - a.getUTCMonth()) /
        stepMonths,
    ) - 1,
  );
  for (;;) {
    const end = dayInMonth(
      a.getUTCFullYear(),
      a.getUTCMonth() + k * stepMonths,
      day,
      a.getUTCHours(),
      a.getUTCMinutes(),
      a.getUTCSeconds(),
    );
    if (end > afterSec) return end;
    k += 1;
  }
}
