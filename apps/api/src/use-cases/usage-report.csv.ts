import type { ReportItemView } from "./usage-report.use-case";

const COLUMNS: Array<keyof ReportItemView> = [
  "item_id",
  "trace_id",
  "occurred_at",
  "category",
  "revision",
  "quantity",
  "unit",
  "sparks",
  "sent_sparks",
  "sent",
  "status",
  "meter_event_identifier",
  "cost_center",
  "tier",
  "reason",
];

/** Free-text columns: values come from traces, so they are guarded against spreadsheet formulas. */
const TEXT_COLUMNS = new Set<keyof ReportItemView>(["trace_id", "cost_center", "reason", "unit"]);

/**
 * RFC 4180 field: quoted when it holds a comma, quote or line break, quotes doubled. A text
 * cell starting with = + - @ (or tab/CR) gets a leading `'` so a spreadsheet shows it
 * instead of evaluating it (CSV injection); numbers are left alone.
 */
export function csvField(value: unknown, text = false): string {
  if (value === null || value === undefined) return "";
  let s = String(value);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvHeader(): string {
  return `${COLUMNS.join(",")}\r\n`;
}

export function csvRow(item: ReportItemView): string {
  return `${COLUMNS.map((c) => csvField(item[c], TEXT_COLUMNS.has(c))).join(",")}\r\n`;
}

/** The CSV export as a stream of lines: header first, then one line per ledger item. */
export async function* csvLines(items: AsyncIterable<ReportItemView>): AsyncGenerator<string> {
  yield csvHeader();
  for await (const item of items) yield csvRow(item);
}
