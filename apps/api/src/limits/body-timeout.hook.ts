import type { FastifyInstance } from "fastify";

const BODYLESS = new Set(["GET", "HEAD", "OPTIONS", "DELETE"]);
const timers = new WeakMap<object, NodeJS.Timeout>();

/**
 * A request body must arrive within `timeoutMs` of its headers; otherwise the connection is
 * closed. Node's own `requestTimeout` is checked only every 30 s, so a handful of slow-body
 * POSTs (to the public `/stripe/webhook`, say) could hold sockets far longer without this.
 */
export function registerBodyTimeout(app: FastifyInstance, timeoutMs: number): void {
  app.addHook("onRequest", async (request) => {
    if (BODYLESS.has(request.method) || request.raw.readableEnded) return;
    const timer = setTimeout(() => {
      if (request.raw.readableEnded) return;
      request.log.info({ timeoutMs }, "request body not received in time; closing the connection");
      request.raw.socket?.destroy();
    }, timeoutMs);
    timer.unref();
    timers.set(request.raw, timer);
    const clear = () => clearTimeout(timer);
    request.raw.once("end", clear);
    request.raw.once("close", clear);
    request.raw.once("error", clear);
  });
  // Answered without reading the body (404, 401, 429): the timer has nothing left to guard.
  app.addHook("onResponse", async (request) => {
    clearTimeout(timers.get(request.raw));
  });
}
