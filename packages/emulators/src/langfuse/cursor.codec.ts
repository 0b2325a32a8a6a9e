import type { SortKey } from "./sorted-collection";

/**
 * The v2 cursor is the (startTime, id) of the last observation served, not an offset: with
 * newest-first order, observations ingested between two page requests would shift offsets and
 * make pages skip or repeat rows. A position key never moves.
 */
export function encodeCursor(key: SortKey): string {
  return Buffer.from(
    JSON.stringify({ lastStartTime: new Date(key.ms).toISOString(), lastId: key.id }),
  ).toString("base64");
}

/** Returns `undefined` for anything that is not a cursor this server issued. */
export function decodeCursor(cursor: string): SortKey | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64").toString("utf8"));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    const { lastStartTime, lastId } = parsed as Record<string, unknown>;
    if (typeof lastStartTime !== "string" || typeof lastId !== "string") return undefined;
    const ms = Date.parse(lastStartTime);
    return Number.isNaN(ms) ? undefined : { ms, id: lastId };
  } catch {
    return undefined;
  }
}
