import type { ObservationRecord } from "@sparks/core";

/** One staged row (declared once, in @sparks/core). */
export type { ObservationRecord };

/** A read window on start time: `from` inclusive, `to` exclusive. */
export interface ReadWindow {
  from: Date;
  to: Date;
  userId?: string;
}

export type LangfuseApiMode = "v2" | "v1";

export interface LangfuseReaderStats {
  /** HTTP requests made, retries included. */
  requests: number;
  /** Requests that were repeated after a retryable failure. */
  retries: number;
  /** Pages yielded to the caller. */
  pages: number;
  /** Records yielded (v1 TRACE pseudo-rows included). */
  observations: number;
}

export interface RetryInfo {
  /** `GET /api/public/...` path that failed. */
  endpoint: string;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  status?: number;
  /** The failure, in words (no secrets). */
  reason: string;
}

export interface ReadOptions {
  signal?: AbortSignal;
}

export interface LangfuseReader {
  /** Streams pages (arrays of records). Memory bounded: one page at a time, never the whole window. */
  readWindow(window: ReadWindow, opts?: ReadOptions): AsyncIterable<ObservationRecord[]>;
  /** "v2" | "v1" once resolved ("auto" tries v2, falls back to v1 on 404 and remembers). */
  resolvedMode(): LangfuseApiMode | null;
  stats(): LangfuseReaderStats;
}

export interface LangfuseReaderOptions {
  baseUrl: string;
  publicKey: string;
  secretKey: string;
  api: LangfuseApiMode | "auto";
  /** Records per request: v2 default and max 1000; v1 default and max 100. */
  pageSize?: number;
  /** Retries per request after a retryable failure; default 5. */
  maxRetries?: number;
  /** Per-request timeout; default 30 000 ms. */
  timeoutMs?: number;
  /** A `Retry-After` longer than this is not waited in-process: the error goes up (the job retries later). Default 120 000 ms. */
  maxRetryAfterMs?: number;
  /** Injectable so tests never wait for real. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable jitter source in [0, 1); default Math.random. */
  random?: () => number;
  onRetry?: (info: RetryInfo) => void;
}
