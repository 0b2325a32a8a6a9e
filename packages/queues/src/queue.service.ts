import { type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { type JobInput, type JobName, type JobPayload, jobCatalog } from "./job-catalog";
import { InvalidPayloadError } from "./job-errors";

/** Where connection errors of the queues go (pino's `warn` fits). */
export interface QueueErrorLogger {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface QueueServiceOptions {
  connection: Redis;
  /** BullMQ key prefix; tests use their own so queues never collide. */
  prefix?: string;
  /** Receives queue errors, each distinct message at most once per ERROR_LOG_INTERVAL_MS. */
  logger?: QueueErrorLogger;
}

/**
 * While Redis is away every queue reports each reconnect attempt; BullMQ prints them all to
 * stderr when nobody listens (dozens a second). One line per distinct error per minute is
 * enough for an operator, and /readyz says the rest.
 */
export const ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * One place that owns a BullMQ Queue per catalog entry. Payloads are validated before they
 * reach Redis, so a bad payload is a clear error for the caller, not a failed job later.
 */
export class QueueService {
  readonly prefix: string;
  private readonly queues = new Map<JobName, Queue>();
  private readonly lastLogged = new Map<string, number>();

  constructor(private readonly options: QueueServiceOptions) {
    this.prefix = options.prefix ?? "sparks";
  }

  queue(name: JobName): Queue {
    let q = this.queues.get(name);
    if (!q) {
      const entry = jobCatalog[name];
      q = new Queue(entry.queue, {
        connection: this.options.connection,
        prefix: this.prefix,
        defaultJobOptions: entry.defaults,
      });
      q.on("error", (err: Error) => this.logError(entry.queue, err));
      this.queues.set(name, q);
    }
    return q;
  }

  private logError(queue: string, err: Error): void {
    const now = Date.now();
    const last = this.lastLogged.get(err.message);
    if (last !== undefined && now - last < ERROR_LOG_INTERVAL_MS) return;
    this.lastLogged.set(err.message, now);
    const line = { queue, err: err.message };
    const msg = "queue error (the same error is logged at most once a minute)";
    if (this.options.logger) this.options.logger.warn(line, msg);
    else process.stderr.write(`${JSON.stringify({ level: "warn", ...line, msg })}\n`);
  }

  allQueues(): Queue[] {
    return (Object.keys(jobCatalog) as JobName[]).map((n) => this.queue(n));
  }

  parse<N extends JobName>(name: N, input: unknown): JobPayload<N> {
    const result = jobCatalog[name].schema.safeParse(input);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new InvalidPayloadError(
        `${name}: ${issue?.path.join(".") || "payload"}: ${issue?.message ?? "invalid payload"}`,
      );
    }
    return result.data as JobPayload<N>;
  }

  async add<N extends JobName>(name: N, input: JobInput<N>, opts: JobsOptions = {}) {
    const data = this.parse(name, input);
    return this.queue(name).add(name, data, opts);
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }
}
