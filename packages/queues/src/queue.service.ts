import { type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { type JobInput, type JobName, type JobPayload, jobCatalog } from "./job-catalog";
import { InvalidPayloadError } from "./job-errors";

export interface QueueServiceOptions {
  connection: Redis;
  /** BullMQ key prefix; tests use their own so queues never collide. */
  prefix?: string;
}

/**
 * One place that owns a BullMQ Queue per catalog entry. Payloads are validated before they
 * reach Redis, so a bad payload is a clear error for the caller, not a failed job later.
 */
export class QueueService {
  readonly prefix: string;
  private readonly queues = new Map<JobName, Queue>();

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
      this.queues.set(name, q);
    }
    return q;
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
