/**
 * Text Postgres cannot store (or stores as something else): a NUL (U+0000) is refused by
 * `text`/`jsonb` (`invalid byte sequence` / `unsupported Unicode escape`), and a lone UTF-16
 * surrogate has no UTF-8 encoding at all. Input carrying either is refused with a 400 that
 * names the field, before it can reach the database as a 500.
 */
export interface UnstorableText {
  /** Dotted path of the offending value (or key), e.g. `customer_id` or `data.object.name`. */
  path: string;
  reason: "nul" | "lone_surrogate";
}

const MAX_DEPTH = 64;

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point.
const NUL = /\u0000/;

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i += 1;
        continue;
      }
      return true;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

function checkString(text: string): UnstorableText["reason"] | null {
  if (NUL.test(text)) return "nul";
  if (hasLoneSurrogate(text)) return "lone_surrogate";
  return null;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/**
 * The first string (value or object key) in `value` that Postgres cannot store, or null.
 * Pure and total: walks arrays and plain objects, at most MAX_DEPTH levels deep.
 */
export function findUnstorableText(value: unknown, path = "", depth = 0): UnstorableText | null {
  if (typeof value === "string") {
    const reason = checkString(value);
    return reason ? { path, reason } : null;
  }
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = findUnstorableText(value[i], join(path, String(i)), depth + 1);
      if (found) return found;
    }
    return null;
  }
  if (ArrayBuffer.isView(value)) return null;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const keyReason = checkString(key);
    if (keyReason) return { path: join(path, key), reason: keyReason };
    const found = findUnstorableText(child, join(path, key), depth + 1);
    if (found) return found;
  }
  return null;
}

/** The sentence a 400 carries: which field, and why. */
export function describeUnstorableText(found: UnstorableText, where: string): string {
  const field = found.path === "" ? where : found.path;
  return found.reason === "nul"
    ? `${field}: must not contain a NUL (\\u0000) character`
    : `${field}: must not contain a lone UTF-16 surrogate (invalid Unicode)`;
}
