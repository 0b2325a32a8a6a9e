import { refreshProvisionalUsage } from "../use-cases/refresh-provisional-usage.use-case";
import type { ProcessorDefinition } from "./processor-definition";

/** One run at a time: each run is one Langfuse request and replaces the provisional counters. */
export const quotaRefreshProcessor: ProcessorDefinition<"quotaRefresh"> = {
  create: (deps) => async () => refreshProvisionalUsage(deps),
  options: () => ({ concurrency: 1, lockDuration: 60_000 }),
};
