import { pushMeterEvents } from "../use-cases/push-meter-events.use-case";
import { resendFailedGroup } from "../use-cases/retry-errors.use-case";
import { defaultPushConcurrency } from "../worker-deps";
import type { ProcessorDefinition } from "./processor-definition";

export const pushMeterEventsProcessor: ProcessorDefinition<"pushMeterEvents"> = {
  create: (deps) => async (payload, job) => {
    // A job that runs again after failing (BullMQ's retry, or "Retry" in Bull Board) also
    // resends the group's failed events, so the operator's click reaches Stripe.
    if (job.attemptsMade > 0) await resendFailedGroup(deps, payload);
    const result = await pushMeterEvents(deps, payload);
    return {
      events: result.events,
      aggregatedEvents: result.aggregatedEvents,
      duplicates: result.duplicates,
      unbillable: result.unbillable,
    };
  },
  options: (deps) => ({
    concurrency: deps.pipeline?.pushConcurrency ?? defaultPushConcurrency(deps.config.stripe.maxRps),
    lockDuration: deps.pipeline?.pushLockDurationMs ?? 60_000,
  }),
};
