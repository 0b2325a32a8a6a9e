import { z } from "zod";

/** What the parent hands a worker process (as argv[2], JSON). */
export const workerSpecSchema = z.object({
  databaseUrl: z.string(),
  redisUrl: z.string(),
  prefix: z.string(),
  env: z.record(z.string(), z.string()),
  stripeTimeoutMs: z.number().int().positive(),
});
export type WorkerSpec = z.infer<typeof workerSpecSchema>;

export function parseWorkerSpec(text: string): WorkerSpec {
  return workerSpecSchema.parse(JSON.parse(text));
}
