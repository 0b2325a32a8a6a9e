import { WebhookEventRepository } from "@sparks/db";
import { jobId } from "@sparks/queues";
import { verifyStripeWebhook, WebhookVerificationError } from "@sparks/stripe";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { RoutePluginOptions } from "../api-deps";
import { BadRequestError, ServiceUnavailableError } from "../errors/http-errors";

/** Stripe's events are small; anything larger is not a Stripe event. */
const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;

const errorBody = z.object({ error: z.string(), message: z.string() });

/** Reads the whole body as bytes; more than `limit` bytes is a 400 (nothing is stored). */
async function readLimited(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk);
    size += buffer.length;
    if (size > limit) {
      throw new BadRequestError(`body: larger than ${limit} bytes`, {}, "payload_too_large");
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** The BullMQ job id of an event: a second enqueue of the same event is a no-op. */
export function stripeEventJobId(eventId: string): string {
  return jobId("stripe-event", eventId);
}

/**
 * SPEC §4 `POST /stripe/webhook`. The signature covers the exact bytes Stripe sent, so this
 * plugin (encapsulated: its parsers apply to its own routes only) keeps every body as a Buffer.
 * A verified event is stored by id and handed to the `stripeWebhooks` queue; the answer
 * comes before any processing, so Stripe never times out on a slow Stripe re-read.
 */
export const stripeWebhookRoutes: FastifyPluginAsyncZod<RoutePluginOptions> = async (app, { deps }) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, payload, done) => {
    readLimited(payload, WEBHOOK_BODY_LIMIT_BYTES).then(
      (body) => done(null, body),
      (e: unknown) => done(e instanceof Error ? e : new Error(String(e)), undefined),
    );
  });
  const events = new WebhookEventRepository(deps.database.db);

  app.post(
    "/stripe/webhook",
    {
      // The parser enforces the 1 MB limit itself, to answer 400 like any other refused delivery.
      bodyLimit: 2 * WEBHOOK_BODY_LIMIT_BYTES,
      schema: {
        tags: ["stripe"],
        summary: "Stripe webhook endpoint (Stripe-Signature verified over the raw body)",
        response: {
          200: z.object({ received: z.literal(true), event_id: z.string(), duplicate: z.boolean() }),
          400: errorBody,
          503: errorBody,
        },
      },
    },
    async (request) => {
      const secret = deps.config.stripe.webhookSecret;
      if (!secret) {
        throw new ServiceUnavailableError("webhook_not_configured", "set STRIPE_WEBHOOK_SECRET");
      }
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const header = request.headers["stripe-signature"];
      let event: ReturnType<typeof verifyStripeWebhook>;
      try {
        event = verifyStripeWebhook(raw, typeof header === "string" ? header : undefined, secret, {
          nowMs: deps.now().getTime(),
        });
      } catch (e) {
        if (e instanceof WebhookVerificationError) {
          request.log.warn({ reason: e.reason }, "stripe webhook refused");
          throw new BadRequestError(e.message, {}, e.reason);
        }
        throw e;
      }

      const stored = await events.insertIfNew({
        stripeEventId: event.id,
        type: event.type,
        created: event.created,
        payload: event.payload,
      });
      // Enqueued on a duplicate too while the event is unprocessed: the first delivery may have
      // stored the row and then failed to reach Redis. The fixed job id makes this a no-op
      // whenever the job already exists.
      if (stored.inserted || stored.row.status === "received") {
        await deps.queues.add("stripeWebhooks", { eventId: event.id }, { jobId: stripeEventJobId(event.id) });
      }
      request.log.info(
        { eventId: event.id, type: event.type, duplicate: !stored.inserted },
        "stripe webhook stored",
      );
      return { received: true as const, event_id: event.id, duplicate: !stored.inserted };
    },
  );
};
