import { AlertsSentRepository, createNotifier, type Notifier } from "@sparks/alerts";
import { RepeatedLogGate } from "@sparks/observability";
import { deliverAlert } from "../use-cases/deliver-alert.use-case";
import type { ProcessorDefinition } from "./processor-definition";

/**
 * The alerts queue. The notifier comes from `deps.alerts` (tests, a composition root that
 * built one) or else from the config's SLACK_WEBHOOK_URL / SMTP_URL / ALERT_EMAIL_TO, so
 * every composition root gets alerts without wiring them.
 */
export const alertsProcessor: ProcessorDefinition<"alerts"> = {
  create: (deps) => {
    const notifier: Notifier = deps.alerts?.notifier ?? createNotifier(deps.config.alerts, deps.logger);
    const repository = new AlertsSentRepository(deps.database.db);
    const logger = deps.logger.child({ queue: "alerts" });
    // One per worker process: the count covers every alert this process logs.
    const unconfiguredGate = new RepeatedLogGate();
    return async (payload, job) => {
      const outcome = await deliverAlert(
        {
          notifier,
          repository,
          queues: deps.queues,
          logger: logger.child({ jobId: job.id, attempt: job.attemptsMade + 1 }),
          now: deps.now ?? (() => new Date()),
          options: deps.alerts?.options,
          unconfiguredGate,
        },
        payload,
      );
      return outcome;
    };
  },
  // Alerts are few; one at a time keeps the hourly budget exact.
  options: () => ({ concurrency: 1 }),
};
