import type { CatalogEntry, CatalogSetupResult } from "./stripe-catalog.setup";

function describe(entry: CatalogEntry): string {
  switch (entry.kind) {
    case "product":
      return `product  ${entry.category.padEnd(9)} ${entry.id}  "${entry.name}"`;
    case "meter":
      return `meter    ${entry.category.padEnd(9)} ${entry.id}  event_name=${entry.eventName}`;
    case "price":
      return `price    ${entry.category.padEnd(9)} ${entry.id}  lookup_key=${entry.lookupKey}  ${entry.unitAmountDecimal}¢/Spark`;
  }
}

/** Human-readable summary for `sparks stripe:setup`. */
export function formatSetupReport(result: CatalogSetupResult): string {
  const lines: string[] = [];
  for (const e of result.created) lines.push(`created  ${describe(e)}`);
  for (const u of result.updated) lines.push(`updated  ${describe(u.entry)}  (${u.reason})`);
  for (const e of result.found) lines.push(`found    ${describe(e)}`);
  for (const w of result.warnings) lines.push(`warning  ${w}`);
  lines.push(
    `${result.created.length} created, ${result.updated.length} updated, ${result.found.length} found, ${result.warnings.length} warnings`,
  );
  return lines.join("\n");
}
