import { describeUnstorableText, findUnstorableText } from "@sparks/core";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { BadRequestError } from "../errors/http-errors";

const PARTS = ["params", "querystring", "body"] as const;

function partValue(request: FastifyRequest, part: (typeof PARTS)[number]): unknown {
  if (part === "params") return request.params;
  if (part === "querystring") return request.query;
  // The webhook keeps its raw bytes (a Buffer); its verifier checks the parsed event itself.
  return Buffer.isBuffer(request.body) ? undefined : request.body;
}

/**
 * SPEC §4: NUL bytes and lone surrogates are bad input on every route. One preValidation hook
 * (before any route schema, handler or query) refuses them with a 400 naming the field, so
 * Postgres — which refuses both — never turns them into a 500.
 */
export function registerUnstorableInputHook(app: FastifyInstance): void {
  app.addHook("preValidation", async (request) => {
    for (const part of PARTS) {
      const found = findUnstorableText(partValue(request, part));
      if (found) {
        throw new BadRequestError(describeUnstorableText(found, part), {
          issues: [{ field: found.path, in: part, message: describeUnstorableText(found, part) }],
        });
      }
    }
  });
}
