/** Route keys used for switching routes off, scoping faults and counting requests. */
export const LANGFUSE_ROUTES = {
  v2Observations: "GET /api/public/v2/observations",
  legacyTraces: "GET /api/public/traces",
  legacyTrace: "GET /api/public/traces/:traceId",
  legacyObservations: "GET /api/public/observations",
  legacyObservation: "GET /api/public/observations/:observationId",
  health: "GET /api/public/health",
  otelTraces: "POST /api/public/otel/v1/traces",
  ingestion: "POST /api/public/ingestion",
} as const;

export type LangfuseRouteName = keyof typeof LANGFUSE_ROUTES;
export type LangfuseRouteKey = (typeof LANGFUSE_ROUTES)[LangfuseRouteName];

/** Attached to legacy (v1) responses, as Langfuse does for endpoints it is retiring. */
export const LEGACY_DEPRECATION = {
  message:
    "This endpoint is deprecated and is removed on Langfuse Cloud on 2026-11-16. Use GET /api/public/v2/observations.",
  replacement: "GET /api/public/v2/observations",
  sunsetAt: "2026-11-16",
} as const;
