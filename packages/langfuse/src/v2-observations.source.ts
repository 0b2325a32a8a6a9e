import type { LangfuseAPIClient } from "@langfuse/core";
import { BILLING_METADATA_KEYS } from "./billing-metadata";
import type { ObservationRecord, ReadWindow } from "./langfuse.types";
import type { RequestRunner } from "./langfuse-request.runner";
import { decodeV2Page } from "./v2-page.decoder";

export const V2_ENDPOINT = "GET /api/public/v2/observations";
/** SPEC §2: usage, metadata, basic (userId, isRootObservation) and trace_context; never io (memory). */
export const V2_FIELDS = "core,basic,usage,metadata,trace_context";
export const V2_MAX_PAGE = 1000;

/** Cursor pagination; the last page has no `meta.cursor`. One request per page, fetched only when asked for. */
export async function* readV2Pages(
  api: LangfuseAPIClient,
  runner: RequestRunner,
  window: ReadWindow,
  pageSize: number,
  signal?: AbortSignal,
): AsyncGenerator<ObservationRecord[]> {
  let cursor: string | undefined;
  do {
    const body = await runner.run(
      V2_ENDPOINT,
      (options) =>
        api.observations.getMany(
          {
            fields: V2_FIELDS,
            // Billing values must never be cut at Langfuse's 200-character metadata truncation.
            expandMetadata: BILLING_METADATA_KEYS.join(","),
            limit: pageSize,
            fromStartTime: window.from.toISOString(),
            toStartTime: window.to.toISOString(),
            ...(window.userId === undefined ? {} : { userId: window.userId }),
            ...(cursor === undefined ? {} : { cursor }),
          },
          options,
        ),
      signal,
    );
    const page = decodeV2Page(body, V2_ENDPOINT);
    cursor = page.cursor;
    if (page.records.length > 0) yield page.records;
  } while (cursor);
}
