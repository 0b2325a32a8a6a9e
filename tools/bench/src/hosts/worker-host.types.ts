import type { PipelineOptions } from "@sparks/worker";

/** What a worker child is started with: the env it would read in production, plus knobs. */
export interface WorkerHostSpec {
  env: Record<string, string>;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  /** Queues this process works (e.g. only `syncUsage` to time ingestion alone). */
  only: ("syncUsage" | "pushMeterEvents")[];
  pipeline: PipelineOptions;
  /** Query pool of this process. */
  maxConnections: number;
}
