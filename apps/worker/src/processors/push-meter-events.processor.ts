import { pushMeterEvents } from "../use-cases/push-meter-events.use-case";
import type { ProcessorDefinition } from "./processor-registry";

export const pushMeterEventsProcessor: ProcessorDefinition<"pushMeterEvents"> = {
  create: (deps) => async (payload) => {
    const result = await pushMeterEvents(deps, payload);
    return {
      events: result.events,
      aggregatedEvents: result.aggregatedEvents,
      duplicates: result.duplicates,
      unbillable: result.unbillable,
    };
  },
  options: (deps) => ({
    concurrency: deps.pipeline?.pushConcurrency ?? 4,
    lockDuration: deps.pipeline?.pushLockDurationMs ?? 60_000,
  }),
};
