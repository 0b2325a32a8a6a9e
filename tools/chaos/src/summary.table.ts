/** A two-column text table (label, value) for the terminal. */
export function renderTable(title: string, rows: ReadonlyArray<readonly [string, string | number]>): string {
  const width = Math.max(title.length, ...rows.map(([label]) => label.length));
  const valueWidth = Math.max(...rows.map(([, value]) => String(value).length), 5);
  const line = `+${"-".repeat(width + 2)}+${"-".repeat(valueWidth + 2)}+`;
  const out = [line, `| ${title.padEnd(width)} | ${"".padStart(valueWidth)} |`, line];
  for (const [label, value] of rows) {
    const text = String(value);
    out.push(
      `| ${label.padEnd(width)} | ${typeof value === "number" ? text.padStart(valueWidth) : text.padEnd(valueWidth)} |`,
    );
  }
  out.push(line);
  return out.join("\n");
}
