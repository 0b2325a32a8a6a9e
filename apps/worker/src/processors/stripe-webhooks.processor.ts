import { isPermanentError } from "@sparks/core";
import { WebhookEventRepository } from "@sparks/db";
import { JobError, jobId, PermanentJobError } from "@sparks/queues";
import { createStripeClient, InvoiceService } from "@sparks/stripe";
import { HandleStripeEventUseCase } from "../use-cases/handle-stripe-event.use-case";
import { clock } from "../use-cases/pipeline-context";
import type { WorkerDeps } from "../worker-deps";
import type { ProcessorDefinition } from "./processor-definition";

function buildUseCase(deps: WorkerDeps): HandleStripeEventUseCase | null {
  const { secretKey, apiBase, meterPrefix } = deps.config.stripe;
  if (!secretKey) return null;
  // SDK retries stay off (the factory's default): BullMQ's backoff retries the whole event,
  // which is safe because every handler re-reads state and writes idempotently.
  const stripe = createStripeClient({ secretKey, apiBase });
  return new HandleStripeEventUseCase(deps, new InvoiceService(stripe, meterPrefix));
}

/**
 * `stripeWebhooks` jobs: one per stored Stripe event (job id from the event id). Each attempt
 * is counted in the webhook log; success marks the event processed, the last failed attempt
 * (or a permanent error) marks it failed and raises a `webhook_failure` alert, and BullMQ
 * keeps the job in its failed set.
 */
export const stripeWebhooksProcessor: ProcessorDefinition<"stripeWebhooks"> = {
  create: (deps) => {
    const events = new WebhookEventRepository(deps.database.db);
    const useCase = buildUseCase(deps);
    return async ({ eventId }, job) => {
      await events.recordAttempt(eventId);
      try {
        if (!useCase)
          throw new PermanentJobError("STRIPE_SECRET_KEY is not set: Stripe events cannot be processed");
        const outcome = await useCase.handle(eventId);
        if (outcome.action !== "already_processed")
          await events.markProcessed(eventId, clock(deps), outcome.note);
        deps.logger.info({ eventId, ...outcome }, "stripe event processed");
        return outcome;
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        const permanent = isPermanentError(e);
        const final = permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        await events.recordFailure(eventId, message, final);
        if (final) {
          await deps.queues
            .add(
              "alerts",
              {
                kind: "webhook_failure",
                dedupeKey: `webhook_failure:${eventId}`,
                customerId: null,
                title: `Stripe event ${eventId} could not be processed`,
                text: message,
                data: { event_id: eventId },
              },
              { jobId: jobId("alert", "webhook_failure", eventId) },
            )
            .catch((err: unknown) =>
              deps.logger.warn({ eventId, err }, "webhook_failure alert not enqueued"),
            );
        }
        if (permanent && !(e instanceof JobError)) throw new PermanentJobError(message, { cause: e });
        throw e;
      }
    };
  },
  options: () => ({ concurrency: 4 }),
};
