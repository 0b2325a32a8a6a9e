import type { BenchSizes } from "../bench.types";
import type { EmulatorHostSpec } from "../hosts/emulator-host.types";

const HOUR_MS = 3_600_000;

/** A closed window of traffic ending an hour ago (past LANGFUSE_LAG, well within Stripe's 35 days). */
export function trafficWindow(sizes: BenchSizes): { from: string; to: string } {
  const to = Math.floor((Date.now() - HOUR_MS) / 60_000) * 60_000;
  return { from: new Date(to - sizes.windowHours * HOUR_MS).toISOString(), to: new Date(to).toISOString() };
}

export function emulatorSpec(
  sizes: BenchSizes,
  observations: number,
  stripe: EmulatorHostSpec["stripe"],
  extra: { v1Only?: boolean; badShare?: number; seed?: number } = {},
): EmulatorHostSpec {
  return {
    stripe,
    langfuse: extra.v1Only ? { v1Only: true } : {},
    traffic: {
      observations,
      customers: sizes.customers,
      ...trafficWindow(sizes),
      seed: extra.seed ?? 42,
      badShare: extra.badShare ?? 0.02,
    },
  };
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Accepted calls per second between the first and the last one. */
export function steadyRate(acceptedAt: readonly number[]): number {
  if (acceptedAt.length < 2) return 0;
  const first = acceptedAt[0] as number;
  const last = acceptedAt[acceptedAt.length - 1] as number;
  return last > first ? ((acceptedAt.length - 1) * 1000) / (last - first) : 0;
}
