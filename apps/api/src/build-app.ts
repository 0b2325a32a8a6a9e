import { randomUUID } from "node:crypto";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { CustomerRepository } from "@sparks/db";
import { type ApiLoggerOptions, createLogger, secretsFromConfig } from "@sparks/observability";
import { DEFAULT_JOB_WAIT_MS } from "@sparks/queues";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import type { Logger } from "pino";
import type { ApiDeps, RouteDeps } from "./api-deps";
import { auth0 } from "./auth/auth0.plugin";
import { createTokenVerifier } from "./auth/token-verifier";
import { registerErrorHandlers } from "./errors/error-handler";
import { limitServerOptions, registerLimits } from "./limits/limits.plugin";
import { registerRoutes } from "./routes";
import { createBillingStripe } from "./use-cases/billing-stripe";

const BODY_LIMIT_BYTES = 1024 * 1024;

function isLogger(value: ApiLoggerOptions | Logger): value is Logger {
  return typeof (value as Logger).child === "function" && typeof (value as Logger).info === "function";
}

function resolveLogger(deps: ApiDeps): Logger | false {
  if (deps.logger === false) return false;
  if (deps.logger && isLogger(deps.logger)) return deps.logger;
  return createLogger(
    {
      level: deps.config.logLevel,
      format: deps.config.logFormat,
      production: deps.config.production,
      ...deps.logger,
    },
    secretsFromConfig(deps.config),
  );
}

/**
 * Many HTTP clients send `content-type: application/json` on every request, DELETE included.
 * Fastify refuses such an empty body; Sparks reads it as no body and keeps Fastify's own
 * parser (prototype-poisoning checks, 400 on bad JSON) for everything else.
 */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text === "") {
      done(null, undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

/**
 * Builds the Fastify app without listening. Everything outside (Redis, database, queues,
 * config) comes in through `deps`, so tests and the CLI compose it the same way.
 */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  // The composition root of the API's outside clients: built once, handed to every route.
  const routeDeps: RouteDeps = {
    ...deps,
    now: deps.now ?? (() => new Date()),
    stripe: deps.stripe === undefined ? createBillingStripe(deps.config) : deps.stripe,
    workerWaitMs: deps.workerWaitMs ?? DEFAULT_JOB_WAIT_MS,
  };
  const logger = resolveLogger(deps);
  const app = Fastify({
    // Typed as Fastify's base logger so the instance stays a plain FastifyInstance for plugins.
    ...(logger ? { loggerInstance: logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    ...limitServerOptions(deps.config.limits),
  });

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandlers(app);
  acceptEmptyJsonBodies(app);
  await registerLimits(app, { limits: deps.config.limits, redis: deps.redis, prefix: deps.queues.prefix });
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Sparks API",
        description: "Bills AI usage traced to Langfuse through Stripe Billing Meters.",
        version: "0.1.0",
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: "http",
            scheme: "bearer",
            bearerFormat: "JWT",
            description: "Auth0 access token",
          },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: "/docs/ui" });

  await app.register(auth0, {
    verifier: createTokenVerifier(deps.config.auth0, routeDeps.now),
    customers: new CustomerRepository(deps.database.db),
  });
  await registerRoutes(app, { deps: routeDeps });
  return app;
}
