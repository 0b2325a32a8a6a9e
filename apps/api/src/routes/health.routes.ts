import { pingRedis } from "@sparks/queues";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { quotaServices } from "../use-cases/quota-services";

const READY_TIMEOUT_MS = 1_500;

const check = z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() });
const readiness = z.object({
  status: z.enum(["ready", "degraded", "not_ready"]),
  checks: z.object({ redis: check, database: check, quota_counters: check.optional() }),
  failed: z.array(z.string()).optional(),
  degraded: z.array(z.string()).optional(),
});

async function timed(run: () => Promise<void>): Promise<z.infer<typeof check>> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)),
          READY_TIMEOUT_MS,
        );
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - started) };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, ms: Math.round(performance.now() - started), error: message.slice(0, 200) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The producer connection refuses commands until connected (no offline queue, to fail fast),
 * so a probe right after start-up waits for a connection in progress, within the timeout.
 */
async function pingWhenConnected(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "connecting" || redis.status === "connect" || redis.status === "wait") {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => done(new Error(`Redis did not connect within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const onReady = () => done();
      const onDown = () => done(new Error("Redis connection failed"));
      function done(error?: Error) {
        clearTimeout(timer);
        redis.off("ready", onReady);
        redis.off("end", onDown);
        redis.off("reconnecting", onDown);
        if (error) reject(error);
        else resolve();
      }
      redis.once("ready", onReady);
      redis.once("end", onDown);
      redis.once("reconnecting", onDown);
    });
  }
  await pingRedis(redis, timeoutMs);
}

/** `/healthz` (the process is up) and `/readyz` (it can reach Redis and Postgres). */
export const healthRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  app.get(
    "/healthz",
    {
      schema: {
        tags: ["health"],
        summary: "Liveness: 200 while the process runs",
        response: { 200: z.object({ status: z.literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["health"],
        summary: "Readiness: Redis answers PING and the database answers a query",
        response: { 200: readiness, 503: readiness },
      },
    },
    async (_request, reply) => {
      const [redis, database] = await Promise.all([
        timed(() => pingWhenConnected(deps.redis, READY_TIMEOUT_MS)),
        timed(() => deps.database.ping()),
      ]);
      const checks = { redis, database };
      const failed = Object.entries(checks)
        .filter(([, c]) => !c.ok)
        .map(([name]) => name);
      if (failed.length > 0) return reply.status(503).send({ status: "not_ready" as const, checks, failed });
      // Redis answers but lost the quota counters (restarted empty): still serving — /quota
      // answers from the ledger per each tier's fail policy — while they are rebuilt.
      const { store, guard } = quotaServices(deps);
      const started = performance.now();
      const trusted = await store.isTrusted().catch(() => false);
      if (!trusted || guard.rebuilding) {
        guard.kick();
        const quotaCounters = {
          ok: false,
          ms: Math.round(performance.now() - started),
          error: "quota counters are being rebuilt from the ledger (Redis lost its data)",
        };
        return reply.status(200).send({
          status: "degraded" as const,
          checks: { ...checks, quota_counters: quotaCounters },
          degraded: ["quota_counters"],
        });
      }
      return reply.status(200).send({ status: "ready" as const, checks });
    },
  );
};
