import type { LangfuseAPIClient } from "@langfuse/core";
import type { ObservationRecord, ReadWindow } from "./langfuse.types";
import type { RequestRunner } from "./langfuse-request.runner";
import { observationsV1PageSchema, tracesV1PageSchema } from "./langfuse-response.schemas";
import { fromObservationV1, fromTraceV1 } from "./observation.mapper";
import { readOffsetPages } from "./offset.pager";
import { parseResponse } from "./response.parser";

export const V1_TRACES_ENDPOINT = "GET /api/public/traces";
export const V1_OBSERVATIONS_ENDPOINT = "GET /api/public/observations";
export const V1_MAX_PAGE = 100;
/** `io` is the only group that carries trace metadata; observations/scores/metrics would only cost bytes. */
const TRACE_FIELDS = "core,io";

/**
 * v1: the window's traces first (TRACE pseudo-rows with trace metadata and userId), then ALL its
 * observations (every type, not only GENERATION: SPEC §2 lets billing keys sit on any
 * observation, and v2 returns every type, so both modes stage the same rows). Two list scans,
 * never one request per trace: about (traces + observations) / 100 requests.
 */
export async function* readV1Pages(
  api: LangfuseAPIClient,
  runner: RequestRunner,
  window: ReadWindow,
  pageSize: number,
  signal?: AbortSignal,
): AsyncGenerator<ObservationRecord[]> {
  const userFilter = window.userId === undefined ? {} : { userId: window.userId };
  const traces = readOffsetPages(
    async (page) => {
      const body = await runner.run(
        V1_TRACES_ENDPOINT,
        (options) =>
          api.trace.list(
            {
              page,
              limit: pageSize,
              fromTimestamp: window.from.toISOString(),
              toTimestamp: window.to.toISOString(),
              fields: TRACE_FIELDS,
              ...userFilter,
            },
            options,
          ),
        signal,
      );
      return parseResponse(tracesV1PageSchema, body, V1_TRACES_ENDPOINT);
    },
    (trace) => trace.id,
    pageSize,
  );
  for await (const page of traces) yield page.map(fromTraceV1);

  const observations = readOffsetPages(
    async (page) => {
      const body = await runner.run(
        V1_OBSERVATIONS_ENDPOINT,
        (options) =>
          api.legacy.observationsV1.getMany(
            {
              page,
              limit: pageSize,
              fromStartTime: window.from.toISOString(),
              toStartTime: window.to.toISOString(),
              ...userFilter,
            },
            options,
          ),
        signal,
      );
      return parseResponse(observationsV1PageSchema, body, V1_OBSERVATIONS_ENDPOINT);
    },
    (observation) => observation.id,
    pageSize,
  );
  for await (const page of observations) {
    const records = page.map(fromObservationV1).filter((r): r is ObservationRecord => r !== null);
    if (records.length > 0) yield records;
  }
}
