import { createHash, timingSafeEqual } from "node:crypto";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { AppConfig } from "@sparks/config";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { RoutePluginOptions } from "../api-deps";
import { HttpError } from "../errors/http-errors";

export const BULL_BOARD_PATH = "/admin/queues";

/** A browser shows its login prompt on this challenge; Bearer alone would leave it stuck. */
const BASIC_CHALLENGE = 'Basic realm="Sparks", charset="UTF-8"';

function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Constant-time on equal-length digests, so neither content nor length leaks through timing. */
function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

function basicCredentials(header: string): { user: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** true when `header` carries the operator's SPARKS_ADMIN_USER / SPARKS_ADMIN_PASSWORD. */
export function isOperator(header: string | undefined, admin: AppConfig["admin"]): boolean {
  if (!admin || !header) return false;
  const given = basicCredentials(header);
  if (!given) return false;
  // Both compared every time (no short circuit), so a right user name is not told apart.
  const userOk = safeEqual(given.user, admin.user);
  const passwordOk = safeEqual(given.password, admin.password);
  return userOk && passwordOk;
}

function deny(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  if (status === 401) reply.header("www-authenticate", BASIC_CHALLENGE);
  return reply.code(status).send({ error, message });
}

/**
 * onRequest guard for operator pages: operator basic auth, or an Auth0 token with
 * billing:admin. It answers itself (instead of throwing) because Bull Board installs its own
 * error handler, which would turn a thrown 401 into a 500.
 */
export function operatorGuard(app: FastifyInstance, admin: AppConfig["admin"]) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const header = request.headers.authorization;
    if (header && /^Basic\s/i.test(header)) {
      if (isOperator(header, admin)) return undefined;
      return deny(
        reply,
        401,
        "unauthorized",
        admin
          ? "wrong operator user or password"
          : "operator basic auth is off (set SPARKS_ADMIN_USER and SPARKS_ADMIN_PASSWORD)",
      );
    }
    if (header && /^Bearer\s/i.test(header)) {
      try {
        const identity = await app.authenticate(request);
        if (identity.role === "admin") return undefined;
        return deny(reply, 403, "forbidden", "this page needs an admin token (billing:admin permission)");
      } catch (e) {
        if (e instanceof HttpError) return deny(reply, e.statusCode, e.code, e.message);
        throw e;
      }
    }
    return deny(
      reply,
      401,
      "unauthorized",
      "sign in with the operator user (basic auth) or an admin Auth0 token",
    );
  };
}

/**
 * Bull Board at /admin/queues: every catalog queue, its failed jobs (the error log) and
 * BullMQ's own retry, which puts the job back to waiting for its processor.
 */
export const bullBoardRoutes: FastifyPluginAsync<RoutePluginOptions> = async (app, { deps }) => {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const queues = deps.queues.allQueues();
  // The board opens every queue up front. While Redis is away each would report every
  // reconnect error (to stderr, without a listener); /readyz already says Redis is down, so
  // one warning a minute is enough.
  let lastWarned = 0;
  for (const queue of queues) {
    queue.on("error", (err: Error) => {
      const now = Date.now();
      if (now - lastWarned < 60_000) return;
      lastWarned = now;
      app.log.warn({ queue: queue.name, err: err.message }, "queue connection error");
    });
  }
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: "Sparks queues" } },
  });
  // This plugin is encapsulated, so the guard covers the board's routes and nothing else.
  app.addHook("onRequest", operatorGuard(app, deps.config.admin));
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
};
