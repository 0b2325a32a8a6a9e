import { CoreError } from "./core.error";
import { err, ok, type Result } from "./result.util";

/** A UTC calendar month, "YYYY-MM". */
export type MonthKey = string;

export interface MonthParseError {
  readonly code: "invalid_month";
  readonly message: string;
}

/** Stripe rejects meter events whose timestamp is more than 35 days in the past. */
export const STRIPE_MAX_EVENT_AGE_DAYS = 35;
const DAY_MS = 86_400_000;
const MONTH_PATTERN = /^(\d{4})-(\d{2})$/;
// Date.UTC maps years 0–99 to 19xx; billing never needs dates before the Unix epoch anyway.
const MIN_YEAR = 1970;
// 9998, not 9999: a month's end is the next month's start, and the month after the last valid
// one must still be a valid month (9999-12 would end in year 10000, which nothing can format).
const MAX_YEAR = 9998;

export function parseMonth(input: unknown): Result<MonthKey, MonthParseError> {
  if (typeof input !== "string")
    return err(monthError(`month must be a string "YYYY-MM", got ${typeof input}`));
  const match = MONTH_PATTERN.exec(input);
  if (!match) return err(monthError(`month "${input}" is not in the form YYYY-MM`));
  const year = Number(match[1]);
  const month = Number(match[2]);
  if (month < 1 || month > 12)
    return err(monthError(`month "${input}" has month ${match[2]}, expected 01–12`));
  if (year < MIN_YEAR || year > MAX_YEAR) {
    return err(monthError(`month "${input}" has year ${year}, expected ${MIN_YEAR}–${MAX_YEAR}`));
  }
  return ok(input);
}

function monthError(message: string): MonthParseError {
  return { code: "invalid_month", message };
}

function parts(month: MonthKey): { year: number; monthIndex: number } {
  const parsed = parseMonth(month);
  if (!parsed.ok) throw new CoreError("invalid_month", parsed.err.message);
  return { year: Number(month.slice(0, 4)), monthIndex: Number(month.slice(5, 7)) - 1 };
}

function assertValidDate(date: Date, field: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new CoreError("invalid_date", `${field} is not a valid date`);
  return ms;
}

function keyOf(year: number, monthIndex: number): MonthKey {
  return `${String(year).padStart(4, "0")}-${String(monthIndex + 1).padStart(2, "0")}`;
}

/** The UTC month a moment belongs to. */
export function monthOf(date: Date): MonthKey {
  assertValidDate(date, "date");
  return keyOf(date.getUTCFullYear(), date.getUTCMonth());
}

/** [start, end) of a UTC calendar month: start is the 1st at 00:00Z, end the next 1st. */
export function monthRange(month: MonthKey): { start: Date; end: Date } {
  const { year, monthIndex } = parts(month);
  return { start: new Date(Date.UTC(year, monthIndex, 1)), end: new Date(Date.UTC(year, monthIndex + 1, 1)) };
}

export function nextMonth(month: MonthKey): MonthKey {
  const { year, monthIndex } = parts(month);
  return monthIndex === 11 ? keyOf(year + 1, 0) : keyOf(year, monthIndex + 1);
}

export function prevMonth(month: MonthKey): MonthKey {
  const { year, monthIndex } = parts(month);
  return monthIndex === 0 ? keyOf(year - 1, 11) : keyOf(year, monthIndex - 1);
}

function lagMs(lagSeconds: number): number {
  if (!Number.isFinite(lagSeconds) || lagSeconds < 0) {
    throw new CoreError(
      "invalid_argument",
      `lag must be a non-negative number of seconds, got ${lagSeconds}`,
    );
  }
  return Math.round(lagSeconds * 1000);
}

/**
 * The earliest moment a month may be closed: its end plus the Langfuse ingestion lag, since
 * observations of the month's last minutes can still arrive until then.
 */
export function monthCloseAt(month: MonthKey, lagSeconds: number): Date {
  return new Date(monthRange(month).end.getTime() + lagMs(lagSeconds));
}

/** The end of the newest closed window: `now − lag` (SPEC §2). */
export function closedWindowEnd(now: Date, lagSeconds: number): Date {
  return new Date(assertValidDate(now, "now") - lagMs(lagSeconds));
}

/** True when an event at `ts` is too old for Stripe meter events (more than 35 days before `now`). */
export function isOlderThanStripeLimit(ts: Date, now: Date): boolean {
  return assertValidDate(now, "now") - assertValidDate(ts, "ts") > STRIPE_MAX_EVENT_AGE_DAYS * DAY_MS;
}
