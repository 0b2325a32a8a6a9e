/**
 * A tiny Result type (in the style of Unkey's `@unkey/error`): parse functions return their
 * failure as a value, so callers must look at it instead of forgetting a try/catch.
 */
export type Result<T, E> = { readonly ok: true; readonly val: T } | { readonly ok: false; readonly err: E };

export function ok<T>(val: T): { readonly ok: true; readonly val: T } {
  return { ok: true, val };
}

export function err<E>(error: E): { readonly ok: false; readonly err: E } {
  return { ok: false, err: error };
}
