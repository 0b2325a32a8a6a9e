import type { ReadWindow } from "./langfuse.types";

/**
 * Cuts [from, to) into consecutive chunks of `stepMs` (the last may be shorter), so a long
 * backfill is read, staged and checkpointed chunk by chunk.
 */
export function splitWindow(from: Date, to: Date, stepMs: number): ReadWindow[] {
  if (!Number.isFinite(stepMs) || stepMs <= 0)
    throw new RangeError(`splitWindow: stepMs must be > 0, got ${stepMs}`);
  const start = from.getTime();
  const end = to.getTime();
  if (Number.isNaN(start) || Number.isNaN(end)) throw new RangeError("splitWindow: invalid date");
  const windows: ReadWindow[] = [];
  for (let t = start; t < end; t += stepMs) {
    windows.push({ from: new Date(t), to: new Date(Math.min(t + stepMs, end)) });
  }
  return windows;
}
