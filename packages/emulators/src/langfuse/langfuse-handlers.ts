import type { z } from "zod";
import { encodeCursor } from "./cursor.codec";
import { LEGACY_DEPRECATION } from "./langfuse.routes";
import type { LangfuseStore, StoredObservation, StoredTrace } from "./langfuse.store";
import {
  type LegacyObservationsQuery,
  type LegacyTracesQuery,
  legacyObservationsQuerySchema,
  legacyTracesQuerySchema,
  type ObservationsV2Query,
  observationsV2QuerySchema,
} from "./langfuse-query.schemas";
import type { LangfuseRequestStats } from "./langfuse-request.stats";
import { toObservationsView, toObservationV2, visibleObservations } from "./observation.serializer";
import { toTraceWithDetails, toTraceWithFullDetails } from "./trace.serializer";

export interface HandlerResult {
  status: number;
  body: unknown;
}

export interface HandlerContext {
  store: LangfuseStore;
  stats: LangfuseRequestStats;
  projectId: string;
  nowMs: number;
}

type Predicate<T> = (item: T) => boolean;

function all<T>(predicates: Array<Predicate<T> | false>): Predicate<T> | undefined {
  const active = predicates.filter((p): p is Predicate<T> => p !== false);
  if (active.length === 0) return undefined;
  return (item) => active.every((p) => p(item));
}

function invalid(error: z.ZodError): HandlerResult {
  // Langfuse answers zod failures with this shape (withMiddlewares in the Langfuse web app).
  return { status: 400, body: { message: "Invalid request data", error: error.issues } };
}

function notFound(message: string): HandlerResult {
  return { status: 404, body: { message, error: "LangfuseNotFoundError" } };
}

type ObservationFilters = Pick<
  ObservationsV2Query,
  "name" | "userId" | "type" | "level" | "parentObservationId" | "version"
> &
  Partial<Pick<ObservationsV2Query, "sessionId" | "isRootObservation" | "environment">>;

function observationPredicate(q: ObservationFilters): Predicate<StoredObservation> | undefined {
  // A const, so the closures below see it narrowed (no non-null assertion needed).
  const environment = q.environment;
  return all<StoredObservation>([
    q.type !== undefined && ((o) => o.data.type === q.type),
    q.name !== undefined && ((o) => o.data.name === q.name),
    q.userId !== undefined && ((o) => o.trace.data.userId === q.userId),
    q.sessionId !== undefined && ((o) => o.trace.data.sessionId === q.sessionId),
    q.level !== undefined && ((o) => (o.data.level ?? "DEFAULT") === q.level),
    q.version !== undefined && ((o) => o.data.version === q.version),
    // An empty parentObservationId matches observations without a parent (OpenAPI description).
    q.parentObservationId !== undefined &&
      ((o) => (o.data.parentObservationId ?? "") === q.parentObservationId),
    q.isRootObservation !== undefined &&
      ((o) => (o.data.parentObservationId == null) === q.isRootObservation),
    environment !== undefined &&
      ((o) => environment.includes(o.data.environment ?? o.trace.data.environment ?? "default")),
  ]);
}

function observationSource(store: LangfuseStore, traceId: string | undefined) {
  // A traceId filter reads that trace's own small index instead of scanning the project.
  return traceId === undefined ? store.observations : store.getTrace(traceId)?.observations;
}

export function observationsV2(query: unknown, ctx: HandlerContext): HandlerResult {
  const parsed = observationsV2QuerySchema.safeParse(query);
  if (!parsed.success) return invalid(parsed.error);
  const q = parsed.data;
  const limit = q.limit ?? 50;
  const source = observationSource(ctx.store, q.traceId);
  const rows =
    source?.pageDesc(
      {
        fromMs: q.fromStartTime,
        toMs: q.toStartTime,
        before: q.cursor,
        nowMs: ctx.nowMs,
        where: observationPredicate(q),
      },
      limit + 1,
    ) ?? [];
  // One row of look-ahead tells whether this is the last page, so the cursor is absent there.
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const serializeCtx = {
    projectId: ctx.projectId,
    expandMetadata: new Set((q.expandMetadata ?? "").split(",").filter(Boolean)),
  };
  ctx.stats.recordObservationsServed(page.length);
  return {
    status: 200,
    body: {
      data: page.map((o) => toObservationV2(o, q.fields, serializeCtx)),
      meta: rows.length > limit && last ? { cursor: encodeCursor({ ms: last.sortMs, id: last.id }) } : {},
    },
  };
}

function pageMeta(page: number, limit: number, totalItems: number) {
  return { page, limit, totalItems, totalPages: Math.ceil(totalItems / limit) };
}

export function legacyObservations(query: unknown, ctx: HandlerContext): HandlerResult {
  const parsed = legacyObservationsQuerySchema.safeParse(query);
  if (!parsed.success) return invalid(parsed.error);
  const q: LegacyObservationsQuery = parsed.data;
  const page = q.page ?? 1;
  const limit = q.limit ?? 50;
  const source = observationSource(ctx.store, q.traceId);
  const { items, total } = source?.sliceDesc(
    { fromMs: q.fromStartTime, toMs: q.toStartTime, nowMs: ctx.nowMs, where: observationPredicate(q) },
    (page - 1) * limit,
    limit,
  ) ?? { items: [], total: 0 };
  ctx.stats.recordObservationsServed(items.length);
  return {
    status: 200,
    body: {
      data: items.map(toObservationsView),
      meta: pageMeta(page, limit, total),
      _deprecation: LEGACY_DEPRECATION,
    },
  };
}

export function legacyObservation(observationId: string, ctx: HandlerContext): HandlerResult {
  const o = ctx.store.getObservation(observationId);
  if (!o || o.visibleAtMs > ctx.nowMs) return notFound("Observation not found within authorized project");
  ctx.stats.recordObservationsServed(1);
  return { status: 200, body: { ...toObservationsView(o), _deprecation: LEGACY_DEPRECATION } };
}

function tracePredicate(q: LegacyTracesQuery): Predicate<StoredTrace> | undefined {
  const { tags, environment } = q;
  return all<StoredTrace>([
    q.userId !== undefined && ((t) => t.data.userId === q.userId),
    q.name !== undefined && ((t) => t.data.name === q.name),
    q.sessionId !== undefined && ((t) => t.data.sessionId === q.sessionId),
    q.version !== undefined && ((t) => t.data.version === q.version),
    q.release !== undefined && ((t) => t.data.release === q.release),
    tags !== undefined && ((t) => tags.every((tag) => (t.data.tags ?? []).includes(tag))),
    environment !== undefined && ((t) => environment.includes(t.data.environment ?? "default")),
  ]);
}

export function legacyTraces(query: unknown, ctx: HandlerContext): HandlerResult {
  const parsed = legacyTracesQuerySchema.safeParse(query);
  if (!parsed.success) return invalid(parsed.error);
  const q = parsed.data;
  const page = q.page ?? 1;
  const limit = q.limit ?? 50;
  const { items, total } = ctx.store.traces.sliceDesc(
    { fromMs: q.fromTimestamp, toMs: q.toTimestamp, nowMs: ctx.nowMs, where: tracePredicate(q) },
    (page - 1) * limit,
    limit,
  );
  // `fields` groups of the trace list: core is always there; io, observations and metrics are optional.
  const groups = q.fields === undefined ? undefined : new Set(q.fields.split(",").map((s) => s.trim()));
  const data = items.map((trace) => {
    const row = toTraceWithDetails(trace, visibleObservations(trace, ctx.nowMs), {
      projectId: ctx.projectId,
    });
    if (groups && !groups.has("observations")) row.observations = [];
    if (groups && !groups.has("scores")) row.scores = [];
    if (groups && !groups.has("metrics")) Object.assign(row, { latency: -1, totalCost: -1 });
    if (groups && !groups.has("io")) Object.assign(row, { input: null, output: null, metadata: null });
    return row;
  });
  return {
    status: 200,
    body: { data, meta: pageMeta(page, limit, total), _deprecation: LEGACY_DEPRECATION },
  };
}

export function legacyTrace(traceId: string, ctx: HandlerContext): HandlerResult {
  const trace = ctx.store.getTrace(traceId);
  if (!trace || trace.visibleAtMs > ctx.nowMs) return notFound("Trace not found within authorized project");
  const observations = visibleObservations(trace, ctx.nowMs);
  ctx.stats.recordObservationsServed(observations.length);
  return {
    status: 200,
    body: {
      ...toTraceWithFullDetails(trace, observations, { projectId: ctx.projectId }),
      _deprecation: LEGACY_DEPRECATION,
    },
  };
}
