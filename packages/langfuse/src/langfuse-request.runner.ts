import { LangfuseError } from "./langfuse.error";
import type { LangfuseReaderStats, RetryInfo } from "./langfuse.types";
import { classifyLangfuseError } from "./langfuse-error.classifier";

/** What each official-client call gets: retries are ours (the client's would hide Retry-After waits from stats). */
export interface ClientRequestOptions {
  maxRetries: 0;
  timeoutInSeconds: number;
  abortSignal?: AbortSignal;
}

export interface RequestRunnerOptions {
  maxRetries: number;
  timeoutMs: number;
  maxRetryAfterMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  now: () => number;
  onRetry?: (info: RetryInfo) => void;
}

const BASE_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The read was aborted", "AbortError");
}

/**
 * Runs one API call with retries: Retry-After when the server sends it, else exponential
 * backoff with jitter; gives up after `maxRetries` with a retryable LangfuseError so the
 * BullMQ job retries later.
 */
export class RequestRunner {
  constructor(
    private readonly options: RequestRunnerOptions,
    private readonly stats: LangfuseReaderStats,
  ) {}

  async run<T>(
    endpoint: string,
    call: (requestOptions: ClientRequestOptions) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const { maxRetries, timeoutMs } = this.options;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortError(signal);
      this.stats.requests++;
      let failure: LangfuseError;
      try {
        return await call({
          maxRetries: 0,
          timeoutInSeconds: timeoutMs / 1000,
          ...(signal ? { abortSignal: signal } : {}),
        });
      } catch (error) {
        if (signal?.aborted) throw abortError(signal);
        failure = classifyLangfuseError(error, endpoint, this.options.now());
      }
      if (!failure.retryable) throw failure;
      const delayMs = failure.retryAfterMs ?? this.backoff(attempt);
      if (attempt >= maxRetries) throw this.givenUp(failure, attempt + 1);
      if (delayMs > this.options.maxRetryAfterMs) {
        // Waiting minutes in-process would hold the worker; the job's own backoff handles it.
        throw failure;
      }
      this.stats.retries++;
      this.options.onRetry?.({
        endpoint,
        attempt: attempt + 1,
        delayMs,
        ...(failure.status === undefined ? {} : { status: failure.status }),
        reason: failure.message,
      });
      await this.options.sleep(delayMs);
    }
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** attempt);
    // "Equal jitter": at least half the ceiling, so retries never stampede at ~0 ms.
    return Math.round(ceiling / 2 + this.options.random() * (ceiling / 2));
  }

  private givenUp(last: LangfuseError, attempts: number): LangfuseError {
    return new LangfuseError(`${last.message} (gave up after ${attempts} attempts)`, {
      retryable: true,
      ...(last.status === undefined ? {} : { status: last.status }),
      ...(last.retryAfterMs === undefined ? {} : { retryAfterMs: last.retryAfterMs }),
      cause: last,
    });
  }
}
