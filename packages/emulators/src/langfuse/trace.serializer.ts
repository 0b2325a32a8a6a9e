import type { StoredObservation, StoredTrace } from "./langfuse.store";
import { toObservationsView } from "./observation.serializer";

function base(trace: StoredTrace): Record<string, unknown> {
  const d = trace.data;
  return {
    id: trace.id,
    timestamp: new Date(trace.sortMs).toISOString(),
    name: d.name ?? null,
    input: d.input ?? null,
    output: d.output ?? null,
    sessionId: d.sessionId ?? null,
    release: d.release ?? null,
    version: d.version ?? null,
    userId: d.userId ?? null,
    metadata: d.metadata ?? null,
    tags: d.tags ?? [],
    public: d.public ?? false,
    environment: d.environment ?? "default",
  };
}

/** Langfuse's trace latency: from the first observation start to the last end, in seconds. */
function metrics(observations: readonly StoredObservation[]): { latency: number; totalCost: number } {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  let totalCost = 0;
  for (const o of observations) {
    first = Math.min(first, o.sortMs);
    last = Math.max(last, o.endMs ?? o.sortMs);
    totalCost += o.data.totalCost ?? o.data.costDetails?.total ?? 0;
  }
  const latency = observations.length === 0 ? 0 : (last - first) / 1000;
  return { latency, totalCost };
}

export interface TraceSerializeContext {
  projectId: string;
}

/** `TraceWithDetails` (list item of `GET /api/public/traces`). */
export function toTraceWithDetails(
  trace: StoredTrace,
  observations: readonly StoredObservation[],
  ctx: TraceSerializeContext,
): Record<string, unknown> {
  return {
    ...base(trace),
    htmlPath: `/project/${ctx.projectId}/traces/${trace.id}`,
    ...metrics(observations),
    observations: observations.map((o) => o.id),
    scores: [],
  };
}

/** `TraceWithFullDetails` (`GET /api/public/traces/{id}`). */
export function toTraceWithFullDetails(
  trace: StoredTrace,
  observations: readonly StoredObservation[],
  ctx: TraceSerializeContext,
): Record<string, unknown> {
  return {
    ...base(trace),
    htmlPath: `/project/${ctx.projectId}/traces/${trace.id}`,
    ...metrics(observations),
    observations: observations.map(toObservationsView),
    scores: [],
  };
}
