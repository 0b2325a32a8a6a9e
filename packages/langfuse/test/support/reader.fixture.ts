import type { LangfuseEmulator } from "@sparks/emulators";
import {
  createLangfuseReader,
  type LangfuseReader,
  type LangfuseReaderOptions,
  type ObservationRecord,
  type ReadWindow,
} from "../../src/index";

export const DAY = new Date("2026-01-01T00:00:00.000Z");
export const hours = (h: number) => new Date(DAY.getTime() + h * 3_600_000);

/** Records every requested sleep instead of waiting. */
export function fakeSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

export function readerFor(
  emulator: LangfuseEmulator,
  options: Partial<LangfuseReaderOptions> & Pick<LangfuseReaderOptions, "api">,
): LangfuseReader {
  return createLangfuseReader({
    baseUrl: emulator.url,
    publicKey: emulator.publicKey,
    secretKey: emulator.secretKey,
    sleep: fakeSleep().sleep,
    ...options,
  });
}

export async function readAll(reader: LangfuseReader, window: ReadWindow): Promise<ObservationRecord[][]> {
  const pages: ObservationRecord[][] = [];
  for await (const page of reader.readWindow(window)) pages.push(page);
  return pages;
}

export async function expectRejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}
