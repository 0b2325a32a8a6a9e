/** A JSON escape other than `\"` and `\\`: the array literal would read it differently. */
const JSON_ONLY_ESCAPE = /\\[bfnrtu]/;

/** Element by element: quotes and backslashes escaped, anything else taken literally. */
function quotedLiteral(values: ReadonlyArray<string | null>): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ",";
    out += v === null || v === undefined ? "NULL" : `"${v.replace(/[\\"]/g, "\\$&")}"`;
  }
  return `${out}}`;
}

/**
 * A Postgres array literal (`{"a",NULL,"b"}`) to pass a whole column as ONE text parameter and
 * cast it (`$1::text[]`, `$2::timestamptz[]`): `unnest` of a few arrays decodes far cheaper than
 * `jsonb_to_recordset` of one JSON document, and works the same on postgres-js and PGlite.
 *
 * Built by the native `JSON.stringify` when it can be (five times cheaper than escaping in a loop,
 * which was the largest single cost of encoding a page): a JSON array of strings and nulls is the
 * array literal, brackets aside, as long as JSON used no escape but `\"` and `\\` (array_in reads
 * those the same way, and reads an unquoted `null` as NULL). Control characters and lone
 * surrogates, which JSON escapes as `\n`/`\uXXXX`, take the element-by-element path.
 */
export function textArrayParam(values: ReadonlyArray<string | null>): string {
  const json = JSON.stringify(values);
  if (JSON_ONLY_ESCAPE.test(json)) return quotedLiteral(values);
  return `{${json.slice(1, -1)}}`;
}
