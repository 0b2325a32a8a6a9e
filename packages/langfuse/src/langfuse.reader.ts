import { LangfuseClient } from "@langfuse/client";
import { LangfuseError } from "./langfuse.error";
import type {
  LangfuseApiMode,
  LangfuseReader,
  LangfuseReaderOptions,
  LangfuseReaderStats,
  ObservationRecord,
  ReadOptions,
  ReadWindow,
} from "./langfuse.types";
import { RequestRunner } from "./langfuse-request.runner";
import { readV1Pages, V1_MAX_PAGE } from "./v1-traces-observations.source";
import { readV2Pages, V2_ENDPOINT, V2_MAX_PAGE } from "./v2-observations.source";

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function checkWindow(window: ReadWindow): void {
  const from = window.from.getTime();
  const to = window.to.getTime();
  if (Number.isNaN(from) || Number.isNaN(to)) throw new RangeError("readWindow: invalid date in window");
  if (from > to) throw new RangeError(`readWindow: from (${window.from.toISOString()}) is after to`);
}

function clampPageSize(requested: number | undefined, max: number): number {
  if (requested === undefined) return max;
  if (!Number.isInteger(requested) || requested < 1)
    throw new RangeError(`pageSize must be a positive integer`);
  return Math.min(requested, max);
}

/** Reads billing-relevant observations from Langfuse with the official API client. */
export function createLangfuseReader(options: LangfuseReaderOptions): LangfuseReader {
  const client = new LangfuseClient({
    publicKey: options.publicKey,
    secretKey: options.secretKey,
    baseUrl: options.baseUrl,
  });
  const api = client.api;
  const stats: LangfuseReaderStats = { requests: 0, retries: 0, pages: 0, observations: 0 };
  const runner = new RequestRunner(
    {
      maxRetries: options.maxRetries ?? 5,
      timeoutMs: options.timeoutMs ?? 30_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 120_000,
      sleep: options.sleep ?? realSleep,
      random: options.random ?? Math.random,
      now: Date.now,
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    },
    stats,
  );
  const v2PageSize = clampPageSize(options.pageSize, V2_MAX_PAGE);
  const v1PageSize = clampPageSize(options.pageSize, V1_MAX_PAGE);
  let resolved: LangfuseApiMode | null = options.api === "auto" ? null : options.api;

  const v1 = (window: ReadWindow, signal?: AbortSignal) =>
    readV1Pages(api, runner, window, v1PageSize, signal);
  const v2 = (window: ReadWindow, signal?: AbortSignal) =>
    readV2Pages(api, runner, window, v2PageSize, signal);

  /** v2, or — in auto mode while unresolved — v1 when the first v2 request answers 404. */
  async function* v2OrFallback(
    window: ReadWindow,
    signal?: AbortSignal,
  ): AsyncGenerator<ObservationRecord[]> {
    const pages = v2(window, signal);
    let first: IteratorResult<ObservationRecord[]>;
    try {
      first = await pages.next();
    } catch (error) {
      if (error instanceof LangfuseError && error.status === 404) {
        if (options.api === "auto" && resolved === null) {
          // An older self-hosted server without v2: remember, so later reads go straight to v1.
          resolved = "v1";
          yield* v1(window, signal);
          return;
        }
        throw new LangfuseError(
          `${error.message}. This Langfuse server has no ${V2_ENDPOINT}: set LANGFUSE_API=v1 (or auto)`,
          { retryable: false, status: 404, cause: error },
        );
      }
      throw error;
    }
    resolved = "v2";
    if (first.done) return;
    yield first.value;
    yield* pages;
  }

  async function* counted(source: AsyncGenerator<ObservationRecord[]>): AsyncGenerator<ObservationRecord[]> {
    for await (const page of source) {
      stats.pages++;
      stats.observations += page.length;
      yield page;
    }
  }

  return {
    readWindow(window: ReadWindow, opts: ReadOptions = {}): AsyncIterable<ObservationRecord[]> {
      checkWindow(window);
      if (window.from.getTime() === window.to.getTime()) return counted((async function* () {})());
      const source = resolved === "v1" ? v1(window, opts.signal) : v2OrFallback(window, opts.signal);
      return counted(source);
    },
    resolvedMode: () => resolved,
    stats: () => ({ ...stats }),
  };
}
