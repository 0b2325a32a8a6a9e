import type { WorkerDeps } from "../worker-deps";

export const SYNC_LOCK_KEY = "sparks:sync";
export const WATERMARK_NAME = "langfuse";

export function clock(deps: WorkerDeps): Date {
  return deps.now ? deps.now() : new Date();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Push jobs are queued by the API's retry and the worker alike: the one definition is in the ledger.
export { enqueuePush, pushDedupeId } from "@sparks/ledger";
