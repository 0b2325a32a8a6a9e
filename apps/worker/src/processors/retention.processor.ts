import { pruneRetention } from "../use-cases/retention.use-case";
import type { ProcessorDefinition } from "./processor-definition";

export const retentionProcessor: ProcessorDefinition<"retention"> = {
  create: (deps) => async () => {
    const result = await pruneRetention(deps);
    return result.pruned ? { cutoff: result.cutoff.toISOString(), counts: result.counts } : result;
  },
  options: () => ({ concurrency: 1, lockDuration: 300_000 }),
};
