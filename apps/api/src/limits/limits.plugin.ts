import rateLimit from "@fastify/rate-limit";
import underPressure from "@fastify/under-pressure";
import type { LimitsConfig } from "@sparks/config";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { Redis } from "ioredis";
import { HttpError, ServiceUnavailableError } from "../errors/http-errors";
import { AuthFailureLimiter } from "./auth-failure.limiter";
import { registerBodyTimeout } from "./body-timeout.hook";
import { registerUnstorableInputHook } from "./unstorable-input.hook";

/** Seconds a shed request is told to wait (under-pressure's Retry-After). */
const SHED_RETRY_AFTER_SECONDS = 10;
/**
 * Idle time a connection may keep before Node closes it. Longer than the 60 s a
 * `POST /usage/sync` with `wait: true` may hold a response, so it never cuts one.
 */
const CONNECTION_TIMEOUT_MS = 90_000;

export class TooManyRequestsError extends HttpError {
  override readonly name = "TooManyRequestsError";
  constructor(message: string, retryAfterSeconds: number) {
    super(429, "too_many_requests", message, { retry_after_seconds: retryAfterSeconds });
  }
}

/** The Fastify server options the limits set (timeouts, proxy trust); spread into `Fastify({...})`. */
export function limitServerOptions(limits: LimitsConfig): Partial<FastifyServerOptions> {
  return {
    // A hop count as proxy-addr's function form: trust the `n` nearest proxies (Render: 1).
    trustProxy:
      typeof limits.trustProxy === "number"
        ? (_address: string, hop: number) => hop < (limits.trustProxy as number)
        : limits.trustProxy,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
  };
}

export interface LimitsOptions {
  limits: LimitsConfig;
  /** The producer connection (fails fast): a Redis outage must not hang requests on the limiter. */
  redis: Redis;
  /** Key prefix (the queues' prefix), so tests and deployments sharing a Redis do not collide. */
  prefix: string;
}

/**
 * Abuse limits on every route (SPEC §4, docs/hardening.md): a per-IP request rate shared by all
 * API processes through Redis, a tighter limit on failed authentication, load shedding on event
 * loop delay, a body-read timeout, and refusal of text Postgres cannot store. Registered on the
 * root instance before the routes, so every route gets them. When Redis is down the limiters
 * let requests through (the routes that need Redis answer 503 themselves).
 */
export async function registerLimits(app: FastifyInstance, options: LimitsOptions): Promise<void> {
  const { limits, redis, prefix } = options;
  if (limits.maxConnections > 0) {
    app.addHook("onReady", async () => {
      app.server.maxConnections = limits.maxConnections;
    });
  }
  if (limits.maxEventLoopDelayMs > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: limits.maxEventLoopDelayMs,
      retryAfter: SHED_RETRY_AFTER_SECONDS,
      pressureHandler: async (_request, reply, type) => {
        reply.header("retry-after", String(SHED_RETRY_AFTER_SECONDS));
        throw new ServiceUnavailableError("overloaded", `the API is overloaded (${type}); retry later`);
      },
    });
  }
  if (limits.requestsPerMinute > 0) {
    await app.register(rateLimit, {
      global: true,
      max: limits.requestsPerMinute,
      timeWindow: 60_000,
      redis,
      nameSpace: `${prefix}:ratelimit:`,
      // Redis away: serve rather than 500 every request; routes that need Redis answer 503.
      skipOnError: true,
      keyGenerator: (request) => request.ip,
      errorResponseBuilder: (_request, context) =>
        new TooManyRequestsError(
          `more than ${context.max} requests per minute from this client; retry in ${Math.ceil(context.ttl / 1000)} s`,
          Math.ceil(context.ttl / 1000),
        ),
    });
  }
  if (limits.authFailuresPer15Minutes > 0) {
    const limiter = new AuthFailureLimiter(redis, prefix, limits.authFailuresPer15Minutes);
    app.addHook("onRequest", async (request, reply) => {
      const authorization = request.headers.authorization;
      if (!authorization) return;
      const verdict = await limiter.check(request.ip, authorization).catch((err: unknown) => {
        request.log.warn({ err }, "auth failure limiter unavailable; not limiting");
        return { blocked: false, retryAfterSeconds: 0 };
      });
      if (verdict.blocked) {
        reply.header("retry-after", String(verdict.retryAfterSeconds));
        throw new TooManyRequestsError(
          `too many failed authentications from this client or for this credential; retry in ${verdict.retryAfterSeconds} s`,
          verdict.retryAfterSeconds,
        );
      }
    });
    app.addHook("onResponse", async (request, reply) => {
      const authorization = request.headers.authorization;
      if (reply.statusCode !== 401 || !authorization) return;
      await limiter.recordFailure(request.ip, authorization).catch((err: unknown) => {
        request.log.warn({ err }, "auth failure not counted (Redis unavailable)");
      });
    });
  }
  registerBodyTimeout(app, limits.bodyTimeoutMs);
  registerUnstorableInputHook(app);
}
