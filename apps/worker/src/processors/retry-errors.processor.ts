import { retryErrors } from "../use-cases/retry-errors.use-case";
import type { ProcessorDefinition } from "./processor-definition";

/** `retryErrors` jobs: the operator's retry; the result is each id's new status, read by the API or CLI. */
export const retryErrorsProcessor: ProcessorDefinition<"retryErrors"> = {
  create: (deps) => async (payload) => retryErrors(deps, [...new Set(payload.errorIds)]),
  options: () => ({ concurrency: 2 }),
};
