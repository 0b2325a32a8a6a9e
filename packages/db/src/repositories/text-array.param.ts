/**
 * A Postgres array literal (`{"a",NULL,"b"}`) to pass a whole column as ONE text parameter and
 * cast it (`$1::text[]`, `$2::timestamptz[]`): `unnest` of a few arrays decodes far cheaper than
 * `jsonb_to_recordset` of one JSON document, and works the same on postgres-js and PGlite.
 */
export function textArrayParam(values: ReadonlyArray<string | null>): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (i > 0) out += ",";
    out += v === null || v === undefined ? "NULL" : `"${v.replace(/[\\"]/g, "\\$&")}"`;
  }
  return `${out}}`;
}
